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
        callback = PassAtSteps(problems, [10, 20], sandbox, max_new_tokens=8)
        measured = models.build_tiny_base(MICRO, tmp_path / "measured", progress=False, callbacks=[callback])
    assert [row["step"] for row in callback.rows] == [10, 20]
    assert all(0.0 <= row["test"] <= 1.0 for row in callback.rows)
    plain = AutoModelForCausalLM.from_pretrained(micro_base).state_dict()
    with_callback = AutoModelForCausalLM.from_pretrained(measured).state_dict()
    assert all(torch.equal(plain[name], with_callback[name]) for name in plain)
