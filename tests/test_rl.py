"""Chapter 06's self-play RL: the aggregator and its schedule, the reward on known
programs, resuming a killed run of rounds, and the two-process launch."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest

from o1lite.problems import TestCase, load_problems
from o1lite.stages import rl
from o1lite.stages.mcts import SandboxJudge
from o1lite.stages.policies import LanguagePolicy
from o1lite.stages.prompts import policy_completion


def test_alpha_falls_linearly_from_start_to_end_over_the_run():
    total = 10
    values = [rl.alpha(t, total) for t in range(total)]
    assert values[0] == 1.0 and values[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[5] == pytest.approx(1.0 - 0.9 * 5 / 9)
    assert rl.alpha(50, total) == pytest.approx(0.1)  # past the end it stays at the end
    assert rl.alpha(0, 1) == 1.0
    # the paper's rate, 0.01 an update, is this schedule over 91 updates
    assert rl.alpha(10, 91) == pytest.approx(0.9)


def test_process_term_discounts_later_steps_and_averages():
    assert rl.process_reward([1.0, 1.0], 0.9) == pytest.approx((0.9 + 0.81) / 2)
    assert rl.process_reward([0.2, 0.8, 0.5], 0.5) == pytest.approx((0.5 * 0.2 + 0.25 * 0.8 + 0.125 * 0.5) / 3)
    assert rl.process_reward([], 0.9) == 0.0


def test_config_rejects_what_grpo_cannot_run():
    with pytest.raises(ValueError, match="reward"):
        rl.RLConfig(reward="vibes")
    with pytest.raises(ValueError, match="multiple of num_generations"):
        rl.RLConfig(batch_size=12, num_generations=8)
    with pytest.raises(ValueError, match="scale_rewards"):
        rl.RLConfig(scale_rewards="sometimes")


class FixedScorer:
    """A PRM stand-in: every step scores `value`."""

    def __init__(self, value):
        self.value, self.calls = value, 0

    def step_scores(self, prompts, paths):
        self.calls += 1
        return [[self.value] * len(steps) for steps in paths]


@pytest.fixture(scope="module")
def problem():
    return load_problems("synthetic", "train", n=1, seed=0)[0]


def _with_code(completion: str, code: str) -> str:
    head = completion.rsplit("<step>\n", 1)[0]
    return head + "<step>\n" + code


def test_reward_on_known_programs(problem, sandbox):
    """Passing, failing, unparsable and timing-out completions, rewarded by the
    reward tests; a program that passes the reward tests but fails the
    reference tests counts as reward hacking."""
    good = policy_completion(problem, "pseudocode")
    wrong = _with_code(good, "    return 0\n")
    loops = _with_code(good, "    while True:\n        pass\n")
    garbage = "no steps, no code"
    # reward tests a constant-0 program passes: the first reference case (expected 0) and a made-up one
    reward_tests = [problem.tests[0], TestCase(args=([1, 3],), expected=0)]
    assert problem.tests[0].expected == 0
    policy = LanguagePolicy(None, None, "pseudocode")
    config = rl.RLConfig(reward="outcome")
    reward = rl.SelfPlayReward(policy, [problem], {problem.task_id: reward_tests}, SandboxJudge(sandbox), config)
    logged = {}
    rewards = reward([problem.prompt] * 4, [good, wrong, loops, garbage], [problem.task_id] * 4,
                     trainer_state=SimpleNamespace(global_step=0), log_metric=logged.__setitem__)
    assert rewards == [1.0, 1.0, 0.0, 0.0]  # the wrong program fools these tests; the loop times out
    assert reward.counts == {"completions": 4, "unparsable": 1, "rewarded": 2, "hacked": 1, "reference_passed": 1}
    assert logged["reward_hacking_rate"] == 0.5 and logged["unparsable_fraction"] == 0.25

    # with the reference tests as reward tests the wrong program earns a fraction only
    honest = rl.SelfPlayReward(policy, [problem], {problem.task_id: list(problem.tests)}, SandboxJudge(sandbox), config)
    good_reward, wrong_reward = honest([problem.prompt] * 2, [good, wrong], [problem.task_id] * 2)
    assert good_reward == 1.0 and 0.0 <= wrong_reward < 1.0


def test_aggregate_mixes_outcome_and_process_by_the_schedule(problem, sandbox):
    good = policy_completion(problem, "pseudocode")
    policy = LanguagePolicy(None, None, "pseudocode")
    config = rl.RLConfig(reward="aggregate", steps=10, gamma=0.9)
    scorer = FixedScorer(0.5)
    reward = rl.SelfPlayReward(policy, [problem], {problem.task_id: list(problem.tests)}, SandboxJudge(sandbox), config,
                               scorer=scorer, offset=10, total=20)  # the second of two rounds of 10 updates
    process = rl.process_reward([0.5] * 5, 0.9)  # the reference pseudocode has five steps
    at = rl.alpha(10 + 3, 20)
    [value] = reward([problem.prompt], [good], [problem.task_id], trainer_state=SimpleNamespace(global_step=3))
    assert value == pytest.approx(at * 1.0 + (1 - at) * process)
    only_process = rl.SelfPlayReward(policy, [problem], {problem.task_id: list(problem.tests)}, SandboxJudge(sandbox),
                                     replace(config, reward="process"), scorer=scorer)
    assert only_process([problem.prompt], [good], [problem.task_id]) == [pytest.approx(process)]
    with pytest.raises(ValueError, match="needs a PRM"):
        rl.SelfPlayReward(policy, [problem], {problem.task_id: list(problem.tests)}, SandboxJudge(sandbox), config)
    with pytest.raises(ValueError, match="no reward tests"):
        rl.SelfPlayReward(policy, [problem], {problem.task_id: []}, SandboxJudge(sandbox), replace(config, reward="outcome"))


MICRO_RL = rl.RLConfig(reward="outcome", steps=1, batch_size=4, num_generations=2, max_completion_length=16, rank=4)


def test_a_killed_run_resumes_at_the_last_finished_round(micro_base, monkeypatch):
    from o1lite.profiles import get_profile

    profile = get_profile("tiny", smoke=True)
    problems = load_problems("synthetic", "train", n=4, seed=1)
    tests = {p.task_id: list(p.tests) for p in problems}
    real = rl.grpo_lora
    trained = []

    def dies_in_round_two(model, tokenizer, dataset, reward_funcs, config, out_dir, **overrides):
        if len(trained) == 1:
            raise KeyboardInterrupt("killed")
        trained.append(out_dir)
        return real(model, tokenizer, dataset, reward_funcs, config, out_dir, **overrides)

    monkeypatch.setattr(rl, "grpo_lora", dies_in_round_two)
    with pytest.raises(KeyboardInterrupt):
        rl.self_play(profile, None, problems, tests, MICRO_RL, rounds=2, data_key="resume", workers=1)
    assert len(trained) == 1
    monkeypatch.setattr(rl, "grpo_lora", lambda *a, **k: (trained.append(a[5]), real(*a, **k))[1])
    rounds = rl.self_play(profile, None, problems, tests, MICRO_RL, rounds=2, data_key="resume", workers=1)
    assert [log["cached"] for _, log in rounds] == [True, False]
    assert len(trained) == 2 and rounds[0][0] == trained[0] and rounds[1][0] == trained[1]
    assert json.loads((rounds[1][0] / "round_log.json").read_text())["chain"][-1] == str(rounds[0][0])


def test_grpo_runs_under_torchrun_with_two_processes_and_ends_with_one_adapter(micro_base, tmp_path):
    out = tmp_path / "launch"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "o1lite.launch", "grpo",
               "--smoke", "--out", str(out), "--steps", "2", "--batch-size", "4", "--num-generations", "4",
               "--max-completion-length", "16", "--problems", "8", "--entropy-coef", "0.1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ranks = [json.loads((out / f"rank_{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert all(r["adapter_moved"] for r in ranks)  # the entropy bonus moves it, so equal means synchronised
    assert ranks[0]["fingerprint"] == ranks[1]["fingerprint"]
    assert (out / "adapter_config.json").exists()


def test_a_swapped_reward_trains_under_its_own_cache_key(micro_base, monkeypatch):
    """`train_round(reward_class=..., variant=...)` (a placebo, say) builds that reward with the round's
    arguments and keeps its round apart from the chapter's; without a variant name it refuses."""
    from o1lite.profiles import get_profile

    profile = get_profile("tiny", smoke=True)
    problems = load_problems("synthetic", "train", n=4, seed=1)
    tests = {p.task_id: list(p.tests) for p in problems}
    built = []

    class Counting(rl.SelfPlayReward):
        def __init__(self, *args, **kwargs):
            built.append(kwargs.get("total"))
            super().__init__(*args, **kwargs)

    with pytest.raises(ValueError, match="variant"):
        rl.train_round(profile, [], problems, tests, MICRO_RL, "swap", reward_class=Counting, workers=1)
    monkeypatch.setattr(rl, "grpo_lora", lambda model, tokenizer, dataset, reward_funcs, config, out_dir, **k:
                        (out_dir.mkdir(parents=True, exist_ok=True), (out_dir / "adapter_config.json").write_text("{}"),
                         {"rewards": type(reward_funcs[0]).__name__})[2])
    out, log = rl.train_round(profile, [], problems, tests, MICRO_RL, "swap", reward_class=Counting, variant="counting", workers=1)
    assert log["rewards"] == "Counting" and built == [MICRO_RL.steps]
    assert out != rl.round_dir(profile, MICRO_RL, [], "swap", None, 1, MICRO_RL.steps)
    assert out == rl.round_dir(profile, MICRO_RL, [], "swap", None, 1, MICRO_RL.steps, "counting")
