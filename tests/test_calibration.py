"""The calibration callback measures without changing what it measures."""

import pytest
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


def test_the_grid_runner_hands_on_each_childs_last_line_and_stops_at_a_failure(tmp_path):
    """`run_children` (calibrate's grid, and the base benchmarks'): every child's last JSON
    line reaches `done` with its label, at most `parallel` run at once, the environment is
    the child's; a failing child stops the grid with one line naming it, after what finished,
    and the children beside it are killed."""
    import os

    from o1lite.calibration import kernel_env, run_children

    log = tmp_path / "running"
    child = ("import json, os, sys, time\n"
             "log = sys.argv[1]\n"
             "open(log, 'a').write('+')\n"
             "time.sleep(0.3)\n"
             "count = open(log).read().count('+') - open(log).read().count('-')\n"
             "open(log, 'a').write('-')\n"
             "print('progress, not the result')\n"
             "print(json.dumps({'threads': os.environ['OMP_NUM_THREADS'], 'kernel': os.environ.get('ATEN_CPU_CAPABILITY'),"
             " 'together': count}))\n"
             "sys.exit(int(sys.argv[2]))\n")
    script = tmp_path / "child.py"
    script.write_text(child)
    done = []
    jobs = [(f"job {i}", [str(script), str(log), "0"], kernel_env("avx2" if i == 1 else "native", threads=3)) for i in range(3)]
    run_children(jobs, lambda label, result: done.append((label, result)), parallel=2, poll=0.05)
    assert sorted(label for label, _ in done) == ["job 0", "job 1", "job 2"]
    assert all(result["threads"] == "3" and result["together"] <= 2 for _, result in done)
    assert dict(done)["job 1"]["kernel"] == "avx2"
    assert dict(done)["job 0"]["kernel"] == os.environ.get("ATEN_CPU_CAPABILITY")

    done.clear()
    failing = [("fine", [str(script), str(tmp_path / "b"), "0"], kernel_env("native")),
               ("broken", [str(script), str(tmp_path / "b"), "3"], kernel_env("native")),
               ("never", [str(script), str(tmp_path / "b"), "0"], kernel_env("native"))]
    with pytest.raises(SystemExit, match="broken failed \\(exit 3\\)"):
        run_children(failing, lambda label, result: done.append(label), parallel=1, poll=0.05)
    assert done == ["fine"]  # what finished before the failure was handed on; nothing after it started

    pid_file = tmp_path / "slow.pid"  # a slow child beside a failing one is killed with the grid
    (tmp_path / "slow.py").write_text(f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    (tmp_path / "fails.py").write_text(f"import os, sys, time\nwhile not os.path.exists({str(pid_file)!r}): time.sleep(0.02)\n"
                                       "time.sleep(0.1)\nsys.exit(3)\n")
    with pytest.raises(SystemExit, match="fails failed"):
        run_children([("slow", [str(tmp_path / "slow.py")], kernel_env("native")),
                      ("fails", [str(tmp_path / "fails.py")], kernel_env("native"))], lambda *_: None, poll=0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_the_spread_panel_lines_each_run_up_across_both_files():
    """Chapter 00's right panel: a run's greedy and sampled pass@1 from one file, its greedy pass@1 on
    more problems from another, matched by run (not by position); each column's spread in its label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from o1lite.plots import spread_at_stop

    def grid(values, **recipe):
        return {"recipe": recipe, "runs": {f"seed={s} kernel={k} threads=1": {"seed": s, "kernel": k, "rows": [{"step": 750, **v}]}
                                           for (s, k), v in values.items()}}

    sampled = grid({(0, "native"): {"test": 0.6, "test_sampled": 0.55}, (1, "avx2"): {"test": 0.7, "test_sampled": 0.6}},
                   n_eval=300, samples=10)
    wider = grid({(1, "avx2"): {"test": 0.66}, (0, "native"): {"test": 0.64}}, n_eval=1000)
    fig, ax = plt.subplots()
    spread_at_stop(ax, sampled, 750, "test", wider=wider)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "spread 0.10" in labels[0] and "spread 0.05" in labels[1] and "1000 problems" in labels[2] and "spread 0.02" in labels[2]
    assert sorted(tuple(line.get_ydata()) for line in ax.get_lines()) == [(0.6, 0.55, 0.64), (0.7, 0.6, 0.66)]
    plt.close(fig)

    # grids that only partly overlap: each run is drawn where it was measured and counts there alone
    partial = grid({(1, "avx2"): {"test": 0.66}, (2, "default"): {"test": 0.61}}, n_eval=1000)
    fig, ax = plt.subplots()
    spread_at_stop(ax, sampled, 750, "test", wider=partial)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "spread 0.10" in labels[0] and "spread 0.05" in labels[2]
    assert sorted((tuple(line.get_xdata()), tuple(line.get_ydata())) for line in ax.get_lines()) == \
        [((0, 1), (0.6, 0.55)), ((0, 1, 2), (0.7, 0.6, 0.66)), ((2,), (0.61,))]
    plt.close(fig)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="seed=0 kernel=native was not evaluated at step 500"):
        spread_at_stop(ax, sampled, 500, "test")
    plt.close(fig)


def test_calibrate_set_measures_another_recipe_and_names_a_wrong_field(monkeypatch, tmp_path, capsys):
    """`o1lite calibrate --set` is how the recipes tried against the base's spread were measured
    (`figures/00_calibration_bs64.json`, `00_calibration_wd2.json`): the fields land in the grid's
    config after --steps, and a field the config lacks stops with one line that lists the fields."""
    from o1lite import __main__ as cli
    from o1lite import calibration

    seen = {}
    monkeypatch.setattr(calibration, "calibrate", lambda out, seeds, kernels, cfg, *a, **k: seen.update(cfg=cfg, out=out))
    out = tmp_path / "curves.json"
    assert cli.main(["calibrate", "--set", "weight_decay=2.0", "steps=750", "schedule_steps=1000", "--out", str(out)]) == 0
    assert (seen["cfg"].weight_decay, seen["cfg"].steps, seen["cfg"].schedule_steps, seen["out"]) == (2.0, 750, 1000, out)
    assert cli.main(["calibrate", "--set", "steps=750", "--every", "750", "--set", "schedule_steps=None", "--out", str(out)]) == 0
    assert (seen["cfg"].steps, seen["cfg"].schedule_steps) == (750, None)  # --set twice adds up
    seen.clear()
    for wrong, named in ((["width=3"], "weight_decay"), (["bf16=false"], "True or False"), (["steps=None"], "takes int"),
                         (["seed=4"], "--seeds"), (["steps=1", "steps=2"], "twice")):
        assert cli.main(["calibrate", "--set", *wrong, "--out", str(out)]) == 2
        error = capsys.readouterr().err.strip()
        assert error.count("\n") == 0 and named in error, error
    assert not seen  # nothing was measured
