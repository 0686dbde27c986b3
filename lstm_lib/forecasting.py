"""One-step-ahead forecasting data: a series split in time (training part, optional
validation stretch, test stretch), scaled on its training part, and cut into windows of past
values with the next value as the target (chapter 12's task).
"""
from dataclasses import dataclass

import numpy as np

from .datasets import StandardScaler, make_windows
from .series import InputError, Series

MIN_TRAIN_WINDOWS = 10
MIN_TEST = 3
MIN_VAL = 3


@dataclass
class ForecastData:
    """Windows of the scaled series, split in time.

    The last `n_test` values of the series are the test stretch: every window whose target lies
    in it is a test sample (its inputs may reach back into the training part, as a forecaster's
    would). The `n_val` values before it (possibly none) are the validation stretch, windowed
    the same way: what a choice made during training (e.g. the number of epochs) may look at,
    so that the test stretch is looked at once, at the end. With `difference=True` the models see and predict the month-to-month changes
    v[t] - v[t-1] instead of the values (a trend then does not push the test stretch outside
    the range seen in training); predictions are turned back into values by adding the last
    known value. The scaler is fitted on the training part only. X: (n, window, 1),
    y: (n, 1), float32, scaled; `test_index[k]` is the position in the series of y_test[k]."""

    series: Series
    window: int
    n_test: int
    n_val: int
    difference: bool
    scaler: StandardScaler
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_index: np.ndarray

    @property
    def test_start(self):
        """Position in the series of the first test value."""
        return len(self.series.values) - self.n_test

    @property
    def val_start(self):
        """Position of the first validation value (= test_start without a validation stretch)."""
        return self.test_start - self.n_val

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
        nv, nt = self.val_start, self.test_start
        what = "changes v[t] - v[t-1]" if self.difference else "values"
        val = (f"Validation stretch: the next {self.n_val} values ({lab[nv]} to {lab[nt - 1]}), "
               f"{len(self.X_val)} windows. " if self.n_val else "")
        return (f"series {s.name}: {len(s.values)} values ({lab[0]} to {lab[-1]}). "
                f"Training part: the first {nv} values ({lab[0]} to {lab[nv - 1]}), "
                f"{len(self.X_train)} windows. {val}Test stretch: the last {self.n_test} values "
                f"({lab[nt]} to {lab[-1]}), {len(self.X_test)} windows. "
                f"Models see and predict the {what}, scaled as (x - {self.scaler.mean:.4g}) / "
                f"{self.scaler.std:.4g} (mean and std of the training part). "
                f"Window: {self.window} past {what} -> the next one.")


def prepare(series, window=24, test_fraction=0.2, difference=True, val_fraction=0.0):
    """Split, scale and window a gap-free Series (see ForecastData): the last `test_fraction`
    of the values is the test stretch, the `val_fraction` before it the validation stretch."""
    n = len(series.values)
    if window < 1:
        raise InputError(f"--window must be at least 1, got {window}")
    if not 0 < test_fraction < 1:
        raise InputError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    if not 0 <= val_fraction < 1 - test_fraction:
        raise InputError(f"--val-fraction must be at least 0 and less than 1 - --test-fraction, "
                         f"got {val_fraction}")
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    n_train = n - n_test - n_val
    lag = 1 if difference else 0
    need = window + lag + MIN_TRAIN_WINDOWS
    if n_test < MIN_TEST or (val_fraction > 0 and n_val < MIN_VAL) or n_train < need:
        max_window = n_train - lag - MIN_TRAIN_WINDOWS
        hint = (f"use --window {max_window} or less, or a longer series" if max_window >= 1
                else "use a longer series")
        val = (f", a validation stretch of {n_val} (--val-fraction {val_fraction:g})"
               if val_fraction > 0 else "")
        raise InputError(f"{series.name} is too short: {n} values, a test stretch of {n_test} "
                         f"(--test-fraction {test_fraction:g}){val} (at least {MIN_TEST} each) and "
                         f"window {window} leave {n_train} training values, but the training part "
                         f"needs at least {need} (window{' + 1 for differencing' * lag} + "
                         f"{MIN_TRAIN_WINDOWS} windows): {hint}")
    v = np.asarray(series.values, np.float64)
    m = np.diff(v) if difference else v  # m[k] belongs to position k + lag of the series
    scaler = StandardScaler().fit(m[:n_train - lag])
    z = scaler.transform(m).astype(np.float32)
    X, y = make_windows(z, window)  # target of row k is z[k + window]
    index = np.arange(len(y)) + window + lag  # position of each target in the series
    test = index >= n - n_test
    val = (index >= n_train) & ~test
    train = index < n_train
    return ForecastData(series, window, n_test, n_val, difference, scaler, X[train], y[train],
                        X[val], y[val], X[test], y[test], index[test])
