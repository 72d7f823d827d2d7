"""Jobs that tests/test_pool.py runs in `o1lite.pool`'s processes. A module of their own, light to
import: each fresh process imports the module its job comes from."""

import os
import time
from pathlib import Path


def where_am_i(tag):
    import torch

    return tag, os.getpid(), torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")


def fails(message):
    if "broke" in message:
        raise RuntimeError(message)
    return message


def says_a_lot(message):
    """Print, log a warning through transformers' logger and run a `datasets` map with its progress
    bar (all of it where a notebook's log would show it), then return `message`."""
    import datasets
    import transformers

    print("printed by a job")
    transformers.utils.logging.get_logger("transformers").warning("logged by a job")
    datasets.Dataset.from_dict({"x": list(range(3))}).map(lambda row: row, desc="mapped by a job")
    return message


def base_is_there(profile, tag=None):
    """Whether `profile`'s tiny base is built; with a `tag`, also `where_am_i(tag)`."""
    from o1lite import models

    built = models.tiny_base_built(profile.tiny)
    return built if tag is None else (built, *where_am_i(tag))


def death_signal() -> int:
    """The signal this process gets when its parent dies (`PR_GET_PDEATHSIG`; 0: none)."""
    import ctypes

    found = ctypes.c_int(0)
    ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(found), 0, 0, 0)  # 2: PR_GET_PDEATHSIG
    return found.value


def sleep_here(folder, seconds):
    """Say where it runs (a file named by its process id, holding the signal its parent's death
    sends it), then sleep: a job still running."""
    written = Path(folder) / f".{os.getpid()}"
    written.write_text(str(death_signal()))
    written.rename(Path(folder) / str(os.getpid()))  # whole: a reader never finds it empty
    time.sleep(seconds)
    return seconds


def stop_with_parent_then_sleep(folder, seconds):
    """What a pool's process does first (`pool._stop_with`), then `sleep_here`, without the imports of a
    pool's process: the test of a killed parent needs no torch."""
    from o1lite import pool

    pool._stop_with(os.getppid())
    sleep_here(folder, seconds)
