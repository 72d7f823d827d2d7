"""Chapter 03's exercises, answered from the notebook's variables (`ns`: its globals).

3. (no check) Resample only the code step of the right-steps, wrong-code
   solutions: cut each completion after its last refinement step (the text
   before the step that starts with the code action), and call
   `sample_steps(model, tokenizer, [prompt + prefix] * 10, stop=prompts.STEP_DELIMITER,
   temperature=TEMPERATURE, max_new_tokens=MAX_NEW_TOKENS["pseudocode"])`; run the
   10 programs with `policies.evaluate_policy`'s sandbox call. On the recorded
   run a minority are repaired: most wrong code after right steps is a wrong
   constant copied from the outline, which resampling the code alone rarely fixes.
"""

from math import comb


def exercise_1(ns):
    table = ns["tables"].get("test")
    if not table:
        return None
    right_code = table["steps_right_code_right"] + table["steps_wrong_code_right"]
    return table["steps_right_code_right"] / right_code if right_code else None


def exercise_2(ns):
    n, k = ns["N_SAMPLES"], min(5, ns["N_SAMPLES"])
    counts = ns["sampled"]["pseudocode", "test", ns["SEED"]].correct_counts
    return sum(1 - comb(n - c, k) / comb(n, k) for c in counts) / len(counts)
