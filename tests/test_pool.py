"""`o1lite.pool`: seeds' jobs side by side, and trainings that seed themselves."""

import os

import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from o1lite import pool, training
from o1lite.problems import load_problems


def where_am_i(tag):
    return tag, os.getpid(), torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")


def fails(message):
    if "broke" in message:
        raise RuntimeError(message)
    return message


def test_jobs_run_in_other_processes_and_come_back_in_order(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    results = pool.run_jobs(where_am_i, [("a",), ("b",), ("c",)], processes=2)
    assert [tag for tag, *_ in results] == ["a", "b", "c"]
    assert all(pid != os.getpid() for _, pid, _, _ in results)
    assert {(threads, omp) for _, _, threads, omp in results} == {(1, "1")}  # two processes share two threads


def test_one_process_runs_the_jobs_here_and_a_failure_reaches_the_caller():
    assert pool.run_jobs(where_am_i, [("a",)])[0][1] == os.getpid()
    with pytest.raises(RuntimeError, match="seed 2 broke"):
        pool.run_jobs(fails, [("fine?",), ("seed 2 broke",)], processes=2)


def test_workers_follow_o1lite_jobs(monkeypatch):
    monkeypatch.setenv("O1LITE_JOBS", "1")
    assert pool.workers("tiny", jobs=6) == 1
    monkeypatch.setenv("O1LITE_JOBS", "4")
    assert pool.workers("tiny", jobs=3) == 3
    monkeypatch.setenv("O1LITE_JOBS", "two")
    with pytest.raises(ValueError, match="whole number"):
        pool.workers("tiny")


def adapter_after(generator_state, micro_base, out):
    problems = load_problems("synthetic", "train", n=16)
    dataset = Dataset.from_dict({"prompt": [p.prompt for p in problems],
                                 "completion": [p.reference[len(p.prompt):] for p in problems]})
    model = AutoModelForCausalLM.from_pretrained(micro_base)
    tokenizer = AutoTokenizer.from_pretrained(micro_base)
    torch.manual_seed(generator_state)  # whatever ran before the training
    training.sft_lora(model, tokenizer, dataset, out, steps=2, batch_size=4, seed=3)
    return load_file(out / "adapter_model.safetensors")


def test_a_training_does_not_depend_on_what_ran_before_it(micro_base, tmp_path):
    """peft draws the LoRA matrices from torch's global generator before the trainer seeds:
    `training._train` sets it from the training's seed, so a job gives the same adapter anywhere."""
    first, second = (adapter_after(state, micro_base, tmp_path / str(state)) for state in (1, 2))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def base_is_there(profile):
    from o1lite import models

    return (models.tiny_base_dir(profile.tiny) / "pretrain_log.json").exists()


def test_a_missing_tiny_base_is_built_once_before_the_jobs_start(monkeypatch, tmp_path):
    from o1lite.profiles import get_profile

    monkeypatch.setenv("O1LITE_RUNS_DIR", str(tmp_path))  # no base there yet; the spawned jobs inherit it
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    profile = get_profile("tiny", smoke=True)
    assert not base_is_there(profile)
    assert pool.run_jobs(base_is_there, [(profile,), (profile,)], profile, processes=2) == [True, True]
