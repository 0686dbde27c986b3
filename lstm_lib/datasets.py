"""Data: the bundled real series as arrays, windowing, scaling, and the adding problem.

The bundled series themselves (and reading any CSV file) are lstm_lib.series.
"""
import numpy as np

from .seeding import get_rng
from .series import load_bundled


def load_series(name="co2_monthly"):
    """A bundled series as (labels such as dates or years, values as float64; NaN where missing).
    Names: see lstm_lib.series.BUNDLED ('co2_monthly', 'co2_weekly' with gaps, 'sunspots')."""
    series = load_bundled(name)
    return series.labels, series.values


def make_windows(series, window, horizon=1):
    """Sliding windows over a 1-D series: X (n, window, 1) of past values and y (n, 1), the
    value `horizon` steps after each window's end."""
    series = np.asarray(series)
    n = len(series) - window - horizon + 1
    if n < 1:
        raise ValueError(f"series of length {len(series)} is too short for window {window} "
                         f"and horizon {horizon}")
    idx = np.arange(window)[None, :] + np.arange(n)[:, None]  # (n, window)
    return series[idx][..., None], series[idx[:, -1] + horizon][:, None]


class StandardScaler:
    """(x - mean) / std with the statistics of the data it was fitted on (the training part)."""

    def fit(self, x):
        x = np.asarray(x, np.float64)
        self.mean, self.std = float(np.mean(x)), float(np.std(x)) or 1.0
        return self

    def transform(self, x):
        return (np.asarray(x) - self.mean) / self.std

    def inverse(self, z):
        return np.asarray(z) * self.std + self.mean


def adding_problem(n, length, rng=None, dtype=np.float32):
    """The adding problem (Hochreiter & Schmidhuber 1997), in its usual form.

    x: (n, length, 2): channel 0 uniform random values in [0, 1), channel 1 a marker that is
    1 at two positions (one in the first half, one in the second) and 0 elsewhere.
    y: (n, 1), the sum of the two marked values. Always predicting 1 gives MSE = 1/6.
    """
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, got {length}")
    rng = rng or get_rng()
    values = rng.random((n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    marks = np.zeros((n, length))
    rows = np.arange(n)
    marks[rows, first] = 1
    marks[rows, second] = 1
    x = np.stack([values, marks], axis=-1).astype(dtype)
    y = (values[rows, first] + values[rows, second])[:, None].astype(dtype)
    return x, y
