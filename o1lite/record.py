"""Recorded results: each chapter's metrics JSON, and the runner's manifest.

Metrics are flat: `key: value`, with `key_ci95: [low, high]` and `key_n`
beside every estimate. Floats are rounded to 6 places and keys sorted, so the
same run on the same machine writes byte-identical files (timings, the keys
ending in `_seconds`, are the one exception: they measure the machine).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .profiles import figures_dir, get_profile


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def flatten(metrics: dict[str, Any]) -> dict[str, Any]:
    """Turn `{"k": {"value", "ci95", "n"}}` (from `metrics.estimate`) into k, k_ci95, k_n."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict) and "value" in value:
            flat[key] = value["value"]
            if "ci95" in value:
                flat[f"{key}_ci95"] = value["ci95"]
            if "n" in value:
                flat[f"{key}_n"] = value["n"]
        else:
            flat[key] = value
    return _clean(flat)


def write_metrics(chapter: str, metrics: dict[str, Any], profile: str = "tiny") -> Path:
    """Write figures/<chapter>_metrics.json (chapter like "00") and return its path."""
    record = flatten(metrics)
    record["profile"] = get_profile(profile).name
    return write_json(figures_dir() / f"{chapter}_metrics.json", record)


def read_metrics(chapter: str) -> dict[str, Any]:
    path = figures_dir() / f"{chapter}_metrics.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run chapter {chapter} first (python -m o1lite reproduce --only {chapter})")
    return json.loads(path.read_text())


def write_json(path: str | Path, record: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_clean(record), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path
