"""Chapter 02's exercises, answered from the notebook's variables (`ns`: its globals).

2. Exactly 1.0, by construction: section 6 keeps only the mutants that the
   official tests tell apart from the reference. The mutation score of the
   generated tests is therefore measured against what the official tests can
   catch; it says how close the TCG comes to them, not how strong they are.
3. Printed, not checked (the first batch is a random draw of pairs): the SFT
   model's mean per-token NLL of the chosen sets, and the first logged
   DPO+NLL loss minus ln 2, divided by the NLL weight. They are close when
   TRL averages the NLL per token, as its RPO loss does.
"""

import math


def exercise_1(ns):
    # -log sigmoid(beta * ((log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - log pi_ref(y_l))))
    margin = 0.2 * ((-10 - -12) - (-15 - -14))
    return math.log1p(math.exp(-margin))  # = -log sigmoid(0.6) = 0.4375


def exercise_2(ns):
    caught, total = 0, 0
    with ns["Sandbox"](workers=ns["WORKERS"]) as sandbox:
        for problem, kept in zip(ns["eval_problems"], ns["problem_mutants"]):
            results = sandbox.run_many([(m.program, problem.entry_point, problem.tests) for m in kept])
            caught += sum(not r.passed for r in results)
            total += len(results)
    return caught / total if total else None


def exercise_3(ns):
    import torch

    model, tokenizer, pairs = ns["sft_model"], ns["tokenizer"], ns["pairs"]
    nll, tokens = 0.0, 0
    for pair in pairs[:32]:
        prompt_ids = tokenizer(pair["prompt"]).input_ids
        chosen_ids = tokenizer(pair["chosen"]).input_ids + [tokenizer.eos_token_id]
        ids = torch.tensor([prompt_ids + chosen_ids])
        with torch.no_grad():
            logprobs = model(ids).logits[0, :-1].log_softmax(-1)
        nll -= logprobs[len(prompt_ids) - 1:].gather(1, ids[0, len(prompt_ids):, None]).sum().item()
        tokens += len(chosen_ids)
    first = ns["dpo_log"]["loss_history"][0]["loss"]
    weight = ns["config"].dpo_sft_weight
    return {"sft_nll_per_token": nll / max(1, tokens), "first_loss_minus_ln2_over_weight": (first - math.log(2)) / weight if weight else None}
