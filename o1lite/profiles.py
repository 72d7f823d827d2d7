"""Named model profiles and where a run's files live.

`tiny` (the default) is a Qwen2-architecture model of about 1–2M parameters
that `o1lite.models` builds from scratch on the synthetic suite, offline, on
a CPU. The other profiles are real Qwen2.5 checkpoints loaded by hub id; any
other hub id (`org/name`) or a local directory holding a checkpoint works
too. This module only names things; loading is `o1lite.models.load_model`.
No torch import here.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class Profile:
    name: str
    model_id: str | None  # hub id or local directory; None for the tiny model built here
    suite: str  # the problem suite the profile trains and evaluates on
    lora_rank: int = 16
    max_new_tokens: int = 512
    chat: bool = False  # instruct models take chat-formatted few-shot prompts

    @property
    def is_tiny(self) -> bool:
        return self.model_id is None


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


def get_profile(name: str | Profile) -> Profile:
    """A known profile by name, or a profile for a hub id (`org/name`) or local directory."""
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
