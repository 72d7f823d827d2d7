"""The calibration callback measures without changing what it measures."""

import torch
from transformers import AutoModelForCausalLM

from o1lite import models
from o1lite.calibration import PassAtSteps
from o1lite.problems import load_problems
from o1lite.profiles import MICRO
from o1lite.sandbox import Sandbox


def test_evaluating_during_pretraining_leaves_the_model_unchanged(micro_base, tmp_path):
    problems = {"test": load_problems("synthetic", "test", n=3, seed=0)}
    with Sandbox(workers=1) as sandbox:
        callback = PassAtSteps(problems, [10, 20], sandbox, max_new_tokens=8, samples=2)  # sampling seeds torch: restored
        measured = models.build_tiny_base(MICRO, tmp_path / "measured", progress=False, callbacks=[callback])
    assert [row["step"] for row in callback.rows] == [10, 20]
    assert all(0.0 <= row[key] <= 1.0 for row in callback.rows for key in ("test", "test_sampled"))
    plain = AutoModelForCausalLM.from_pretrained(micro_base).state_dict()
    with_callback = AutoModelForCausalLM.from_pretrained(measured).state_dict()
    assert all(torch.equal(plain[name], with_callback[name]) for name in plain)


def test_stopping_early_on_a_longer_schedule_gives_the_model_the_curve_measured(tmp_path):
    """The base stops at `steps` of a `schedule_steps` cosine schedule: the same weights as the
    full-schedule run at that step, which is what the calibration curve evaluated."""
    from dataclasses import replace

    full = replace(MICRO, steps=12, schedule_steps=None, n_train_problems=80)
    early = replace(full, steps=6, schedule_steps=12)
    saved = {}

    class Snapshot(PassAtSteps):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step == 6:
                saved.update({k: v.detach().clone() for k, v in model.state_dict().items()})
            return control

    models.build_tiny_base(full, tmp_path / "full", progress=False, callbacks=[Snapshot({}, [], None)])
    stopped = models.build_tiny_base(early, tmp_path / "early", progress=False)
    weights = AutoModelForCausalLM.from_pretrained(stopped).state_dict()
    assert models.pretrain_log(stopped)["loss_history"][-1]["step"] == 6
    assert saved and set(weights) <= set(saved)
    assert all(torch.equal(weights[name], saved[name]) for name in weights)
