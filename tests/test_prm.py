"""The process reward model (chapter 05): its data from search trees, the
step-end masking and tokenisation, both losses, scoring, aggregation,
best-of-N picking and PRM-guided beam search."""

import math

import pytest
import torch

from o1lite.metrics import auroc, seeded_statistic
from o1lite.problems import Problem, TestCase
from o1lite.profiles import get_profile
from o1lite.stages import mcts, prm
from o1lite.stages.mcts import ScriptedPolicy, SearchStep, Tree, Verdict

GOOD, BAD = "1. Add one to x.\n<step>\n", "1. Square the string.\n<step>\n"


def problems(n=6):
    return [Problem(f"toy/{i}", f"def f{i}(x):\n    \"\"\"Return x plus {i}.\"\"\"\n", f"f{i}",
                    f"def f{i}(x):\n    return x + {i}\n", [TestCase((1,), 1 + i)], "toy") for i in range(n)]


def toy_records(n=6, simulations=6):
    """Trees whose good first step leads to passing code and whose bad one does not."""
    script = {(): [SearchStep(GOOD), SearchStep(BAD)],
              (GOOD,): [SearchStep("    return x + 1\n", terminal=True, program="good")],
              (BAD,): [SearchStep("    return x * x\n", terminal=True, program="bad")]}
    judge = lambda items: [Verdict(float(p == "good"), p == "good", p == "good", float(p == "good")) for _, p, _ in items]
    trees = [Tree(p, k=2) for p in problems(n)]
    mcts.search(trees, ScriptedPolicy(script), judge, simulations=simulations)
    return [t.to_record() for t in trees]


@pytest.fixture(scope="module")
def micro(micro_base):
    return get_profile("tiny", smoke=True)


@pytest.fixture(scope="module")
def tokenizer(micro):
    from o1lite import models

    return models.load_model(micro)[1]


# ---------------------------------------------------------------- data
def test_paths_and_pairs_come_from_the_trees_values():
    records = toy_records(2)
    rows = prm.path_rows(records)
    assert {tuple(r["completions"]) for r in rows} == {(GOOD, "    return x + 1\n"), (BAD, "    return x * x\n")}
    for row in rows:
        assert row["values"] == ([1.0, 1.0] if row["completions"][0] == GOOD else [0.0, 0.0])
    pairs = prm.sibling_pairs(records, min_gap=0.5)
    assert len(pairs) == 2 and all(p["chosen"] == GOOD and p["rejected"] == BAD and p["steps"] == [] for p in pairs)
    assert prm.sibling_pairs(records, min_gap=1.01) == []  # no pair is that far apart
    first, second = pairs
    scores = [{first["chosen_id"]: 0.9, first["rejected_id"]: 0.1}, {second["chosen_id"]: 0.4, second["rejected_id"]: 0.4}]
    assert prm.pair_outcomes(records, scores, pairs) == [[1.0], [0.5]]  # right, then a tie
    scores[0] = {first["chosen_id"]: 0.1, first["rejected_id"]: 0.9}
    assert prm.pair_outcomes(records, scores, pairs)[0] == [0.0] and prm.pair_outcomes(records, scores, []) == [[], []]


def test_reference_labels_rescore_the_same_tree():
    records = toy_records(1)
    for node in records[0]["nodes"]:  # the reference tests disagree: only the bad code passes them
        if node["program"] is not None:
            node["reference_fraction"] = float(node["program"] == "bad")
    truth = {tuple(r["completions"]): r["values"] for r in prm.path_rows(records, "reference")}
    assert truth[(BAD, "    return x * x\n")] == [1.0, 1.0] and truth[(GOOD, "    return x + 1\n")] == [0.0, 0.0]


def test_split_completion_keeps_delimiters_and_joins_back():
    text = "1. Split.\n<step>\nRefine step 1: cut.\n<step>\n    return s.split()\n"
    steps = prm.split_completion(text)
    assert steps == ["1. Split.\n<step>\n", "Refine step 1: cut.\n<step>\n", "    return s.split()\n"]
    assert "".join(steps) == text
    assert prm.split_completion("no delimiter") == ["no delimiter"]


# ---------------------------------------------------------------- tokenisation and masking
def test_stepwise_tokens_can_differ_from_whole_text_and_training_matches_scoring(tokenizer):
    pieces = ["    return s.spl", "it()"]
    whole = tokenizer("".join(pieces), add_special_tokens=False)["input_ids"]
    ids, ends = prm.encode_steps(tokenizer, "", pieces)
    assert tokenizer.decode(ids) == "".join(pieces)
    assert ids != whole  # BPE merged across the boundary in the whole text
    assert ends[-1] == len(ids) - 1 and ends[0] == len(tokenizer(pieces[0], add_special_tokens=False)["input_ids"]) - 1
    # the training row of a path is exactly what the scorer encodes for it
    records = toy_records(1)
    row = prm.path_rows(records)[0]
    data = prm.pointwise_dataset([row], tokenizer)
    assert (data[0]["input_ids"], data[0]["step_ends"]) == prm.encode_steps(tokenizer, row["prompt"], row["completions"])


def test_collator_masks_everything_but_step_ends():
    collate = prm.StepCollator(pad_token_id=0)
    batch = collate([{"input_ids": [5, 6, 7, 8], "step_ends": [1, 3], "step_labels": [1.0, 0.25]},
                     {"input_ids": [9, 9], "step_ends": [1], "step_labels": [0.0]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8], [9, 9, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 1.0, -100, 0.25], [-100, 0.0, -100, -100]]


def test_step_loss_is_bce_at_step_ends_only():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -9.0]])
    labels = torch.tensor([[-100.0, 1.0, 0.25], [0.0, -100.0, -100.0]])
    expected = sum(-(y * math.log(1 / (1 + math.exp(-x))) + (1 - y) * math.log(1 - 1 / (1 + math.exp(-x))))
                   for x, y in ((-1.0, 1.0), (0.5, 0.25), (0.0, 0.0))) / 3
    assert prm.step_loss(logits, labels).item() == pytest.approx(expected, rel=1e-5)
    logits[1, 2] = 100.0  # a masked position never counts
    assert prm.step_loss(logits, labels).item() == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- aggregation and picking
def test_aggregations():
    assert [prm.aggregate([0.9, 0.2, 0.7], how) for how in ("min", "last", "mean")] == [0.2, 0.7, pytest.approx(0.6)]
    assert prm.aggregate([], "min") == 0.0
    with pytest.raises(ValueError, match="aggregation"):
        prm.aggregate([0.5], "max")


def test_pick_breaks_ties_at_random_in_expectation():
    assert prm.pick([0.1, 0.9, 0.3], [False, True, False]) == 1.0
    assert prm.pick([0.5, 0.5, 0.1], [True, False, True]) == 0.5  # two tied best, one passes
    assert prm.pick([0.0, 0.0], [True, True]) == 1.0


def test_auroc_and_pooled_bootstrap():
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert auroc([0.2, 0.2], [0, 1]) == 0.5  # a tie counts half
    assert math.isnan(auroc([0.3, 0.4], [1, 1]))
    perfect = [[[(0.9, True), (0.1, False)] for _ in range(5)] for _ in range(2)]
    stat = seeded_statistic(perfect, lambda items: auroc([s for s, _ in items], [y for _, y in items]))
    assert stat["value"] == 1.0 and stat["ci95"] == [1.0, 1.0] and stat["seeds"] == 2 and stat["n"] == 5


# ---------------------------------------------------------------- models
def test_config_rejects_unknown_choices():
    with pytest.raises(ValueError, match="kind"):
        prm.PRMConfig(kind="listwise")
    with pytest.raises(ValueError, match="label_source"):
        prm.PRMConfig(label_source="oracle")


@pytest.mark.parametrize("kind", prm.KINDS)
def test_a_trained_prm_ranks_good_steps_above_bad_ones(micro, kind):
    records = toy_records(6)
    config = prm.PRMConfig(kind=kind, steps=30, batch_size=8, learning_rate=1e-2, rank=8, min_gap=0.5)
    folder, log = prm.train_prm(micro, records, config)
    assert not log["cached"] and log["loss_history"][-1]["loss"] < log["loss_history"][0]["loss"]
    assert prm.train_prm(micro, records, config)[1]["cached"]
    scorer = prm.load_prm(micro, folder)
    scores = prm.tree_step_scores(scorer, records)
    labels, values = [], []
    for record, scored in zip(records, scores):
        for node in mcts.step_nodes(record):
            labels.append(node["value"] > 0.5)
            values.append(scored[node["id"]])
    assert auroc(values, labels) == 1.0


def test_scores_do_not_depend_on_padding_or_on_later_steps(micro):
    from o1lite.stages.prm import StepScorer, load_backbone

    model, tokenizer = load_backbone(micro, "pointwise")
    scorer = StepScorer(model.eval(), tokenizer, batch_size=2)
    prompt = problems(1)[0].prompt
    full = scorer.step_scores([prompt, prompt], [[GOOD, "    return x + 1\n"], [BAD]])
    alone = StepScorer(model, tokenizer, batch_size=1).step_scores([prompt], [[GOOD]])
    assert full[0][0] == pytest.approx(alone[0][0], abs=1e-5)  # a prefix scores the same inside a longer path
    assert len(full[0]) == 2 and len(full[1]) == 1 and all(0.0 < s < 1.0 for row in full for s in row)


# ---------------------------------------------------------------- beam search
class PreferGood:
    """A fake scorer: steps containing 'Add' or '+' score high."""

    def step_scores(self, prompts, paths):
        return [[0.9 if ("Add" in s or "+" in s) else 0.1 for s in steps] for steps in paths]


def test_beam_search_follows_the_scorer_and_counts_tokens():
    script = {(): [SearchStep(BAD, n_tokens=5), SearchStep(GOOD, n_tokens=5)],
              (GOOD,): [SearchStep("    return x + 1\n", terminal=True, program="good", n_tokens=7)] * 2,
              (BAD,): [SearchStep("    return x * x\n", terminal=True, program="bad", n_tokens=7)] * 2}
    results = prm.beam_search(ScriptedPolicy(script), PreferGood(), problems(2), width=1, expand=2, how="min")
    for result in results:
        assert result.program == "good" and result.steps == [GOOD, "    return x + 1\n"]
        assert result.tokens == 2 * 5 + 2 * 7  # two first steps, then two code steps from the one kept beam
    dead = {(): [SearchStep("", terminal=True, program=None, n_tokens=3)] * 2}
    assert prm.beam_search(ScriptedPolicy(dead), PreferGood(), problems(1), width=1, expand=2)[0].program is None
