"""Named model profiles and where a run's files live.

`tiny` (the default) is a Qwen2-architecture model of about 1–2M parameters
that `o1lite.models` builds from scratch on the synthetic suite, offline, on
a CPU; its `TinyConfig` (sizes, data, steps, seed) travels inside the
profile, so every function that loads or caches a model takes the profile
alone. The other profiles are real Qwen2.5 checkpoints loaded by hub id; any
other hub id (`org/name`) or a local directory holding a checkpoint works
too. `get_profile(name, smoke=True)` gives the same profile at micro sizes
(the tiny base shrinks to `MICRO`; chapters shrink their own budgets), for
the test suite: seconds per chapter, numbers that mean nothing.
This module only names things; loading is `o1lite.models.load_model`.
No torch import here.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class TinyConfig:
    """Everything that determines the tiny base model; its hash names the cache."""

    vocab_size: int = 1024  # BPE vocabulary trained on the synthetic train split
    hidden_size: int = 128  # wider: smarter, slower
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2  # grouped-query attention, as in Qwen2
    intermediate_size: int = 384
    max_positions: int = 512
    n_train_problems: int = 4000  # synthetic train problems used for pretraining
    # Optimiser steps, and the length of the cosine learning-rate schedule they follow. Pass@1 of a
    # model this small climbs in steps (a jump of 0.2-0.4 within a few dozen optimiser steps when it
    # learns a skill), and where a jump falls moves with the seed and the CPU's float kernels. The base
    # stops at step 750 of a 1000-step schedule, where every calibrated run of this recipe sits on the
    # same plateau (`figures/00_calibration.json`, drawn in chapter 00; `python -m o1lite calibrate`
    # measures it). Stopping early on a longer schedule gives exactly the model the curve measured there.
    steps: int = 750
    schedule_steps: int | None = 1000  # None: the schedule ends at `steps`
    batch_size: int = 32
    learning_rate: float = 3e-3
    warmup_steps: int = 60
    # Strong weight decay settles the seeds on one plateau: at 0.1 the seeds' test pass@1 at step 750
    # spread over 0.21 (one seed had learned `keep_odd` in unseen combinations, two had not); at 1.0,
    # 0.03 on one CPU kernel path (`figures/00_base_recipes.json`, recipe `wd1`; the older curves are
    # `00_calibration_wd01.json`) and 0.09 across 3 seeds on both paths (`figures/00_calibration.json`).
    # At 2.0, five of six runs (3 seeds x AVX-512 and AVX2) stay under 0.3 on test (0.22-0.28, the level
    # this recipe's curves hold before their first jump; `00_calibration_wd2.json`), and batches of 64
    # instead of 32 spread the six runs 0.18 (`00_calibration_bs64.json`). A 1500-step schedule at half the
    # learning rate ends with seed 1 on a higher plateau than seeds 0 and 2: 0.86 against 0.65-0.68
    # (`00_calibration_lr15_1500.json`): seed 1 learns the parity filters (`keep_odd`, `keep_even`) in
    # unseen combinations and the others do not (`benchmarks/base_recipes_lr15.json`); drawing those
    # operations 3x as often in training slows every seed and teaches them to none
    # (`benchmarks/base_recipes_parity.json`). Without them in the suite, seed 1 misses copying digit
    # constants instead (`benchmarks/base_recipes_noparity.json`); in the same file, on a 1500-step schedule
    # seed 0 never jumps (0.33 against 0.82-0.85), and the 1000-step recipe on the AVX2 kernel path leaves
    # seed 1 without `max` and `min` (0.69 against 0.81 on AVX-512). 6 layers spread 0.10 (`..._deep.json`).
    weight_decay: float = 1.0
    # bf16 autocast helps only on CPUs with bf16 units (AMX / AVX512-BF16); on a plain
    # AVX2 Xeon it measured 1.6-2.2x *slower* than fp32, so it is off by default.
    bf16: bool = False
    seed: int = 0

    def key(self) -> str:
        """Names the cache: the config and the code that builds the base (the problem generator, `models`)."""
        from .record import source_hash, stable_hash

        return stable_hash({"config": stable_hash(self), "code": source_hash("problems", "models.py")})


def recipe_fields(cfg: TinyConfig, pairs: list[tuple[str, object]]) -> dict:
    """FIELD=VALUE pairs (`calibrate --set`, `benchmarks/base_recipes.py --set`) as fields of the
    tiny base's config `cfg`, each checked against its field's type (an int where a float is
    wanted is taken); a ValueError says what is wrong in one line. The seed is refused: both
    commands take their seeds with `--seeds`."""
    import dataclasses

    fields = {field.name: field for field in dataclasses.fields(cfg)}
    chosen: dict = {}
    for name, value in pairs:
        if name == "seed":
            raise ValueError("--set seed: the seeds are --seeds")
        if name not in fields:
            raise ValueError(f"--set {name}: not a field of the tiny base's config ({', '.join(sorted(fields))})")
        if name in chosen:
            raise ValueError(f"--set {name}: given twice")
        kind, optional = type(fields[name].default), "None" in str(fields[name].type)
        if kind is float and type(value) is int:
            value = float(value)
        if not (type(value) is kind or (value is None and optional)):
            raise ValueError(f"--set {name}={value!r}: {name} takes {'True or False' if kind is bool else kind.__name__}"
                             + (" or None" if optional else ""))
        chosen[name] = value
    return chosen


# Micro sizes for smoke tests: seconds to build, numbers meaningless.
SMOKE_NEW_TOKENS = 16  # tokens per step or solution of a checkpoint profile's smoke run
MICRO = TinyConfig(vocab_size=400, hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2,
                   intermediate_size=128, n_train_problems=300, steps=30, schedule_steps=None, batch_size=16,
                   warmup_steps=5)


@dataclass(frozen=True)
class Profile:
    name: str
    model_id: str | None  # hub id or local directory; None for the tiny model built here
    suite: str  # the problem suite the profile trains and evaluates on
    lora_rank: int = 16
    max_new_tokens: int = 512
    chat: bool = False  # instruct models take chat-formatted few-shot prompts
    tiny: TinyConfig | None = None  # the tiny base's build (tiny profiles only; TinyConfig() when not given)
    smoke: bool = False  # micro sizes for the test suite: the numbers mean nothing

    def __post_init__(self):
        if self.model_id is None and self.tiny is None:
            object.__setattr__(self, "tiny", TinyConfig())

    @property
    def is_tiny(self) -> bool:
        return self.model_id is None

    def for_seed(self, seed: int) -> "Profile":
        """This profile with the base that belongs to `seed`: the tiny base pretrained with that seed
        (each of a chapter's seeds trains on its own base, so the spread over seeds carries the base's
        too; see RESULTS.md on the calibration); a checkpoint profile is one model, unchanged."""
        return replace(self, tiny=replace(self.tiny, seed=seed)) if self.is_tiny else self

    @property
    def base_id(self) -> str:
        """What names the base model in cache keys: the tiny config's hash, or the hub id or folder."""
        return f"tiny-{self.tiny.key()}" if self.is_tiny else str(self.model_id)


PROFILES: dict[str, Profile] = {
    "tiny": Profile("tiny", None, "synthetic", lora_rank=16, max_new_tokens=96),
    "qwen2.5-0.5b-instruct": Profile("qwen2.5-0.5b-instruct", "Qwen/Qwen2.5-0.5B-Instruct", "mbpp", chat=True),
    "qwen2.5-1.5b-instruct": Profile("qwen2.5-1.5b-instruct", "Qwen/Qwen2.5-1.5B-Instruct", "mbpp", chat=True),
    "qwen2.5-coder-1.5b-instruct": Profile(
        "qwen2.5-coder-1.5b-instruct", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "mbpp", chat=True
    ),
    "qwen2.5-coder-7b-instruct": Profile(
        "qwen2.5-coder-7b-instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", "mbpp", chat=True
    ),
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class UnknownProfile(ValueError):
    pass


def get_profile(name: str | Profile, smoke: bool = False, suite: str | None = None) -> Profile:
    """A known profile by name, or a profile for a hub id (`org/name`) or local
    directory; with `smoke`, at micro sizes (see the module docstring); with
    `suite` other than its own, training and evaluating on that suite instead
    (named `<name>-<suite>`, so its runs never mix with the profile's own).
    A `Profile` is returned as it is (with `smoke`, made micro)."""
    profile = _named_profile(name)
    if suite is not None and suite != profile.suite:
        from .problems import SUITES

        if suite not in SUITES:
            raise UnknownProfile(f"unknown suite {suite!r}: pass SUITE as one of {', '.join(SUITES)} (or None for the profile's own)")
        profile = replace(profile, name=f"{profile.name}-{suite}", suite=suite)
    if smoke and not profile.smoke:
        # a checkpoint's smoke run keeps its model but writes short outputs (random weights never stop early)
        profile = replace(profile, smoke=True, tiny=MICRO if profile.is_tiny else None,
                          max_new_tokens=profile.max_new_tokens if profile.is_tiny else SMOKE_NEW_TOKENS)
    return profile


def _named_profile(name: str | Profile) -> Profile:
    if isinstance(name, Profile):
        return name
    if name in PROFILES:
        return PROFILES[name]
    if Path(name).expanduser().is_dir():
        path = str(Path(name).expanduser().resolve())
        return Profile(Path(path).name, path, "mbpp", chat=_looks_instruct(path))
    if _HUB_ID.match(name):
        return Profile(name.split("/")[-1].lower(), name, "mbpp", chat=_looks_instruct(name))
    known = ", ".join(PROFILES)
    raise UnknownProfile(
        f"unknown profile {name!r}: use one of {known}, a hub id like Qwen/Qwen2.5-0.5B, or a local checkpoint directory"
    )


def _looks_instruct(model_id: str) -> bool:
    return any(tag in model_id.lower() for tag in ("instruct", "chat"))


def project_root() -> Path:
    """The repository root: $O1LITE_ROOT, else the nearest parent of the working
    directory holding o1lite's pyproject.toml, else the package's parent."""
    if os.environ.get("O1LITE_ROOT"):
        return Path(os.environ["O1LITE_ROOT"]).resolve()
    for folder in [Path.cwd(), *Path.cwd().parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and 'name = "o1lite"' in candidate.read_text():
            return folder
    return Path(__file__).resolve().parent.parent


def runs_dir() -> Path:
    """Artifacts (gitignored): $O1LITE_RUNS_DIR or <root>/runs."""
    return Path(os.environ.get("O1LITE_RUNS_DIR") or project_root() / "runs")


def figures_dir() -> Path:
    """Figures and metrics JSON: $O1LITE_FIGURES_DIR or <root>/figures."""
    path = Path(os.environ.get("O1LITE_FIGURES_DIR") or project_root() / "figures")
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_dir(profile: str | Profile, chapter: str) -> Path:
    """runs/<profile>/<chapter>/, created on first use."""
    path = runs_dir() / get_profile(profile).name / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- is the hub there?
PROBE_SECONDS = 3.0


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def offline_mode() -> bool:
    """True when the environment asks for no network (`HF_HUB_OFFLINE` and kin)."""
    return any(_env_true(name) for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(seconds: float = PROBE_SECONDS) -> bool:
    """Can a TCP connection to the hub endpoint be opened within `seconds`?

    Name resolution ignores socket timeouts, so the probe runs in a daemon
    thread that is abandoned if it does not answer in time.
    """
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    answer: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=seconds):
                answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True, name="o1lite-hub-probe")
    thread.start()
    thread.join(seconds + 0.5)
    return bool(answer and answer[0])
