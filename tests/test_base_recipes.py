"""The recipe search's two levers change what they say they change, and nothing else."""

from collections import Counter

import pytest
import torch
from transformers import Trainer, TrainingArguments

from conftest import load_benchmark

from o1lite.problems import synthetic as syn


def _script():
    return load_benchmark("base_recipes")


def _ops(problems) -> Counter:
    return Counter(op for p in problems for op in p.meta["ops"])


def test_boost_draws_more_of_an_operation_in_train_only(monkeypatch):
    # register the generator's functions so that the boost is undone after the test
    monkeypatch.setattr(syn, "_walk", syn._walk)
    monkeypatch.setattr(syn, "_draw_ops", syn._draw_ops)
    sizes = {"train": 1000, "test": 300, "hard": 300}
    before = {split: syn.load_synthetic(split, n=n, seed=0) for split, n in sizes.items()}
    _script()._boosted_training_mix({"replace_char": 3.0})
    after = {split: syn.load_synthetic(split, n=n, seed=0) for split, n in sizes.items()}
    for split in ("test", "hard"):
        assert [p.prompt for p in after[split]] == [p.prompt for p in before[split]]
    # the generator rejects some of the extra chains (outputs that do not vary, repeated statements),
    # so a weight of 3 gives about twice as many problems, not three times
    assert _ops(after["train"])["replace_char"] >= 1.5 * _ops(before["train"])["replace_char"]


class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 2)

    def forward(self, **kwargs):
        return {}


def test_training_argument_override_reaches_the_trainer(monkeypatch, tmp_path):
    monkeypatch.setattr(Trainer, "__init__", Trainer.__init__)
    _script()._training_arguments({"weight_decay": 1.0})
    args = TrainingArguments(output_dir=str(tmp_path), weight_decay=0.1, use_cpu=True, report_to=[])
    assert Trainer(model=_Tiny(), args=args).args.weight_decay == 1.0


def test_a_recipe_name_takes_new_seeds_only_of_the_same_whole_config():
    """A run records the whole config it trained; a new seed joins a recipe only when
    config, mix and training arguments all match, and runs recorded without a config
    (under older defaults) take none."""
    script = _script()
    config = script.recorded_config(script.recipe_config({"hidden_size": 192}))
    assert "seed" not in config
    assert config["hidden_size"] == 192 and config["steps"] == 1000 and "weight_decay" in config
    run = {"config": config, "boost": {}, "train_args": {}}
    record = {"wide s0": run, "wide s1": dict(run, config={**config, "weight_decay": 0.1}), "old s0": {"overrides": {}},
              "wider s0": dict(run, config={**config, "hidden_size": 256})}
    assert script.conflicting_runs(record, "wide", config, {}, {}) == ["wide s1"]
    assert script.conflicting_runs({"wide s0": run}, "wide", config, {}, {}) == []
    assert script.conflicting_runs({"wide s0": run}, "wide", config, {"count_char": 2.0}, {}) == ["wide s0"]
    assert script.conflicting_runs(record, "old", config, {}, {}) == ["old s0"]
    try:
        script.recipe_config({"hiden_size": 192})
    except SystemExit as error:
        assert "hiden_size" in str(error)
    else:
        raise AssertionError("a misspelt field must stop the script")
    with pytest.raises(SystemExit, match="hidden_size takes int"):
        script.recipe_config({"hidden_size": "wide"})  # the same checks as `calibrate --set` (profiles.recipe_fields)
    assert script.recipe_config({"weight_decay": 2}).weight_decay == 2.0


def test_dropped_operations_leave_every_split_and_a_typo_stops(monkeypatch):
    for name in ("OPS", "OPS_BY_NAME", "PRIMITIVES", "_BY_SOURCE"):
        monkeypatch.setattr(syn, name, getattr(syn, name))  # undone after the test
    script = _script()
    script._dropped_operations(["keep_odd", "keep_even"])
    for split, n in {"train": 600, "test": 200, "hard": 100}.items():
        used = _ops(syn.load_synthetic(split, n=n, seed=0))
        assert not {"keep_odd", "keep_even"} & set(used) and used["square"] > 0
    with pytest.raises(SystemExit, match="keep_prime"):
        script._dropped_operations(["keep_prime"])


def test_suite_constants_change_the_mix_and_refuse_what_is_not_one(monkeypatch):
    monkeypatch.setattr(syn, "INT_SHARE", syn.INT_SHARE)
    script = _script()
    lists = lambda: sum(p.meta["input_type"] == "list[int]" for p in syn.load_synthetic("test", n=200, seed=0))
    before = lists()
    script._suite_constants({"INT_SHARE": 0.3})
    assert lists() < 0.75 * before
    for name in ("int_share", "OPS", "NO_SUCH"):
        with pytest.raises(SystemExit, match=name):
            script._suite_constants({name: 0.5})
    record = {"np s0": {"config": {}, "boost": {}, "train_args": {}, "drop": ["keep_odd"], "suite": {"INT_SHARE": 0.4}}}
    assert script.conflicting_runs(record, "np", {}, {}, {}, ["keep_odd"], {"INT_SHARE": 0.4}) == []
    assert script.conflicting_runs(record, "np", {}, {}, {}, ["keep_odd"], {}) == ["np s0"]
    assert script.conflicting_runs(record, "np", {}, {}, {}, [], {"INT_SHARE": 0.4}) == ["np s0"]
