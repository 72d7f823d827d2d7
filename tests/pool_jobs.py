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


def base_is_there(profile):
    from o1lite import models

    return models.tiny_base_built(profile.tiny)


def sleep_here(folder, seconds):
    """Say where it runs (a file named by its process id), then sleep: a job still running."""
    (Path(folder) / str(os.getpid())).touch()
    time.sleep(seconds)
    return seconds
