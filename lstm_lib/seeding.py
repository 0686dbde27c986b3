"""One random generator for the whole library, and `seed` to make runs reproducible."""
import importlib.util
import random as _pyrandom

import numpy as np

_rng = np.random.default_rng(0)


def get_rng():
    """The library's generator: layers and data helpers draw from it unless given their own."""
    return _rng


def seed(value=0):
    """Seed everything a run depends on: lstm_lib's generator, NumPy's global one,
    Python's `random`, and torch when it is installed. Returns the seed."""
    global _rng
    _rng = np.random.default_rng(value)
    np.random.seed(value)
    _pyrandom.seed(value)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(value)
    return value
