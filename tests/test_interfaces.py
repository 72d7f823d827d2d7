"""The interfaces later chapters plug into, in TRL's own formats: the policy
object, the sandbox as a reward function, and step-labelled trajectories.

The GRPO test runs TRL's real trainer for two steps on the micro base: what
it checks is the plumbing (columns reach the reward, rewards reach the
logs), not learning.
"""

from __future__ import annotations

import pytest

from o1lite import models
from o1lite.problems import load_problems
from o1lite.profiles import get_profile
from o1lite.sandbox import ExecutionReward, decode_tests, encode_tests
from o1lite.stages import mcts
from o1lite.stages.policies import LanguagePolicy


@pytest.fixture(scope="module")
def problems():
    return load_problems("synthetic", "train", n=4, seed=0)


def test_tests_travel_as_a_column_and_come_back_exactly(problems):
    for problem in problems:
        assert decode_tests(encode_tests(problem.tests)) == list(problem.tests)


def test_execution_reward_scores_fractions_and_zero_for_unparsable(sandbox, problems):
    problem = problems[0]
    body = problem.reference[len(problem.prompt):]
    reward = ExecutionReward(sandbox)
    column = [encode_tests(problem.tests)] * 4
    prompts = [problem.prompt] * 4
    completions = [body, "    return None\n", "", [{"role": "assistant", "content": problem.reference}]]
    got = reward(prompts, completions, tests=column, entry_point=[problem.entry_point] * 4, trainer_state=None)
    assert got[0] == 1.0 and got[3] == 1.0  # a body, and a whole function in a conversational completion
    assert got[1] < 1.0 and got[2] == 0.0
    assert reward.stats["unparsable"] == 1 and reward.stats["completions"] == 4
    strict = ExecutionReward(sandbox, all_or_nothing=True)
    half = [problem.tests[0], type(problem.tests[0])(problem.tests[1].args, "surely not this")]
    assert strict([problem.prompt], [body], tests=[encode_tests(half)], entry_point=[problem.entry_point]) == [0.0]
    assert reward([problem.prompt], [body], tests=[encode_tests(half)], entry_point=[problem.entry_point]) == [0.5]


def test_policy_reward_reads_its_own_format(micro_base, sandbox, problems):
    model, tokenizer = models.load_model(get_profile("tiny", smoke=True))
    dataset = LanguagePolicy(model, tokenizer, "pseudocode").prompt_dataset(problems)
    assert set(dataset.column_names) >= {"prompt", "tests", "entry_point", "problem_prompt", "task_id"}
    row = dataset[0]
    from o1lite.stages.prompts import policy_completion

    right = policy_completion(problems[0], "pseudocode")
    for fmt, completion, expected in (("pseudocode", right, 1.0), ("pseudocode", "no steps at all", 0.0),
                                      ("vanilla", problems[0].reference[len(problems[0].prompt):], 1.0)):
        reward = LanguagePolicy(model, tokenizer, fmt).reward_function(sandbox)
        assert reward([row["prompt"]], [completion], tests=[row["tests"]], entry_point=[row["entry_point"]],
                      problem_prompt=[row["problem_prompt"]], task_id=[row["task_id"]]) == [expected]


def test_grpo_trainer_takes_the_policy_dataset_and_reward_as_they_are(micro_base, sandbox, problems, tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    model, tokenizer = models.load_model(get_profile("tiny", smoke=True))
    policy = LanguagePolicy(model, tokenizer, "vanilla", max_new_tokens=12)
    reward = policy.reward_function(sandbox)
    args = GRPOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=12, learning_rate=1e-3, logging_steps=1, report_to=[], use_cpu=True,
                      bf16=False, gradient_checkpointing=False, save_strategy="no", disable_tqdm=True, seed=0)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, processing_class=tokenizer,
                          train_dataset=policy.prompt_dataset(problems), peft_config=models.lora_config(rank=4))
    trainer.train()
    assert reward.stats["calls"] >= 2 and reward.stats["completions"] >= 8
    logged = [row for row in trainer.state.log_history if f"rewards/{reward.__name__}/mean" in row]
    assert logged and all(0.0 <= row[f"rewards/{reward.__name__}/mean"] <= 1.0 for row in logged)


def test_trajectories_are_trl_stepwise_supervision(micro_base, problems):
    def step(name, terminal):
        return mcts.SearchStep(name, -1.0, terminal, name if terminal else None, 2)

    script = {(): [step("plan a<step>\n", False), step("plan b<step>\n", False)],
              ("plan a<step>\n",): [step("good", True)], ("plan b<step>\n",): [step("bad", True)]}
    judge = lambda items: [mcts.Verdict(float(p == "good"), p == "good", p == "good", float(p == "good")) for _, p, _ in items]
    tree = mcts.Tree(problems[0], k=2)
    mcts.search([tree], mcts.ScriptedPolicy(script), judge, simulations=4)
    rows = mcts.trajectories([tree.to_record()])
    from datasets import Dataset

    dataset = Dataset.from_list(rows)
    by_end = {row["completions"][-1]: row for row in dataset}
    assert by_end["good"]["completions"] == ["plan a<step>\n", "good"] and by_end["good"]["labels"] == [True, True]
    assert by_end["bad"]["labels"] == [False, False] and by_end["bad"]["values"] == [0.0, 0.0]
    assert dataset.features["labels"].feature.dtype == "bool"
    try:
        from trl.experimental.prm import PRMTrainer
    except ImportError:  # removed after TRL 1.13; the columns above are the whole contract
        return
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(micro_base)
    row = PRMTrainer.tokenize_row(by_end["good"], tokenizer, step_separator="", max_length=None,
                                  max_completion_length=None, train_on_last_step_only=False, is_eval=False)
    assert sum(label != -100 for label in row["labels"]) == 2  # one label per step, at the step's last token
