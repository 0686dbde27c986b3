"""One-step-ahead forecasting data: a series split in time, scaled on its training part, and
cut into windows of past values with the next value as the target (chapter 12's task).
"""
from dataclasses import dataclass

import numpy as np

from .datasets import StandardScaler, make_windows
from .series import InputError, Series

MIN_TRAIN_WINDOWS = 10
MIN_TEST = 3


@dataclass
class ForecastData:
    """Windows of the scaled series, split in time.

    The last `n_test` values of the series are the test stretch: every window whose target lies
    in it is a test sample (its inputs may reach back into the training part, as a forecaster's
    would). With `difference=True` the models see and predict the month-to-month changes
    v[t] - v[t-1] instead of the values (a trend then does not push the test stretch outside
    the range seen in training); predictions are turned back into values by adding the last
    known value. The scaler is fitted on the training part only. X: (n, window, 1),
    y: (n, 1), float32, scaled; `test_index[k]` is the position in the series of y_test[k]."""

    series: Series
    window: int
    n_test: int
    difference: bool
    scaler: StandardScaler
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_index: np.ndarray

    @property
    def n_train_values(self):
        return len(self.series.values) - self.n_test

    @property
    def y_test_units(self):
        return self.series.values[self.test_index]

    def to_units(self, z):
        """Scaled predictions of the test windows (n_test,) or (n_test, 1) -> series values."""
        z = np.asarray(z, np.float64)
        u = self.scaler.inverse(z)
        if self.difference:
            last = self.series.values[self.test_index - 1]
            u = u + (last[:, None] if u.ndim == 2 else last)
        return u

    def scaled_input_units(self, X):
        """Windows back in the series' units (what an unscaled model would see)."""
        return self.scaler.inverse(np.asarray(X, np.float64)).astype(np.float32)

    def describe(self):
        s, lab = self.series, self.series.labels
        nt = self.n_train_values
        what = "changes v[t] - v[t-1]" if self.difference else "values"
        return (f"series {s.name}: {len(s.values)} values ({lab[0]} to {lab[-1]}). "
                f"Training part: the first {nt} values ({lab[0]} to {lab[nt - 1]}), "
                f"{len(self.X_train)} windows. Test stretch: the last {self.n_test} values "
                f"({lab[nt]} to {lab[-1]}), {len(self.X_test)} windows. "
                f"Models see and predict the {what}, scaled as (x - {self.scaler.mean:.4g}) / "
                f"{self.scaler.std:.4g} (mean and std of the training part). "
                f"Window: {self.window} past {what} -> the next one.")


def prepare(series, window=24, test_fraction=0.2, difference=True):
    """Split, scale and window a gap-free Series (see ForecastData)."""
    n = len(series.values)
    if window < 1:
        raise InputError(f"--window must be at least 1, got {window}")
    if not 0 < test_fraction < 1:
        raise InputError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    n_test = round(test_fraction * n)
    n_train = n - n_test
    lag = 1 if difference else 0
    need = window + lag + MIN_TRAIN_WINDOWS
    if n_test < MIN_TEST or n_train < need:
        max_window = n_train - lag - MIN_TRAIN_WINDOWS
        hint = (f"use --window {max_window} or less, or a longer series" if max_window >= 1
                else "use a longer series")
        raise InputError(f"{series.name} is too short: {n} values, a test stretch of {n_test} "
                         f"(--test-fraction {test_fraction:g}; at least {MIN_TEST} needed) and "
                         f"window {window} leave {n_train} training values, but the training part "
                         f"needs at least {need} (window{' + 1 for differencing' * lag} + "
                         f"{MIN_TRAIN_WINDOWS} windows): {hint}")
    v = np.asarray(series.values, np.float64)
    m = np.diff(v) if difference else v  # m[k] belongs to position k + lag of the series
    scaler = StandardScaler().fit(m[:n_train - lag])
    z = scaler.transform(m).astype(np.float32)
    X, y = make_windows(z, window)  # target of row k is z[k + window]
    index = np.arange(len(y)) + window + lag  # position of each target in the series
    test = index >= n_train
    return ForecastData(series, window, n_test, difference, scaler, X[~test], y[~test], X[test],
                        y[test], index[test])
