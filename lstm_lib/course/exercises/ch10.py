"""Self-checks for chapter 10 (long-range memory, the adding problem)."""
import numpy as np

from ..selfcheck import Mistake, expect_array, self_check


@self_check("your generator makes valid adding-problem batches.")
def check_adding_batch(make_batch):
    """Exercise 1: make_batch(n, length, rng) -> (x (n, length, 2), y (n, 1)).

    Channel 0: values uniform in [0, 1); channel 1: exactly two markers, one in the first
    half (positions < length // 2) and one in the second; y: the sum of the two marked values."""
    if not callable(make_batch):
        raise Mistake("pass the function itself, e.g. check_adding_batch(make_batch)")
    n, length = 500, 20
    x, y = make_batch(n, length, np.random.default_rng(0))
    x, y = expect_array(x, "x"), expect_array(y, "y")
    if x.shape != (n, length, 2):
        raise Mistake(f"x has shape {x.shape}, expected (n, length, 2) = {(n, length, 2)}: "
                      f"values and markers stacked on the last axis")
    if y.shape != (n, 1):
        raise Mistake(f"y has shape {y.shape}, expected (n, 1) = {(n, 1)}")
    values, marks = x[..., 0], x[..., 1]
    if values.min() < 0 or values.max() >= 1:
        raise Mistake("channel 0 should hold values uniform in [0, 1)")
    if abs(values.mean() - 0.5) > 0.02:
        raise Mistake(f"the values have mean {values.mean():.3f}: expected uniform in [0, 1), mean 0.5")
    if not np.isin(marks, (0, 1)).all():
        raise Mistake("channel 1 should hold only 0 and 1 (the markers)")
    per_row = marks.sum(axis=1)
    if not (per_row == 2).all():
        bad = int(np.argmax(per_row != 2))
        raise Mistake(f"row {bad} has {int(per_row[bad])} markers; every row needs exactly 2")
    half = length // 2
    first, second = marks[:, :half].sum(axis=1), marks[:, half:].sum(axis=1)
    if not ((first == 1) & (second == 1)).all():
        raise Mistake(f"one marker must be in the first half (positions 0..{half - 1}) and one in "
                      f"the second; some rows have both in the same half")
    if marks[:, :half].argmax(axis=1).std() < 1:
        raise Mistake("the first marker is (almost) always at the same place: draw its position "
                      "at random for each row")
    expected = (values * marks).sum(axis=1, keepdims=True)
    if not np.allclose(y, expected, atol=1e-6):
        if np.allclose(y, values.sum(axis=1, keepdims=True), atol=1e-6):
            raise Mistake("y is the sum of all values; it should be the sum of the two marked ones")
        raise Mistake("y should be the sum of the two marked values (values * markers, summed over time)")


@self_check("right: knowing one of the two values halves the error of the constant guess.")
def check_one_value_mse(mse):
    """Exercise 2: a model remembers the second marked value v2 exactly but nothing of the
    first. What is the lowest MSE it can reach?"""
    mse = expect_array(mse, "mse")
    if mse.shape != ():
        raise Mistake(f"give one number, got shape {mse.shape}")
    mse = float(mse)
    if np.isclose(mse, 1 / 12, rtol=1e-3):
        return
    if np.isclose(mse, 1 / 6, rtol=1e-3):
        raise Mistake("1/6 is the error of the constant 1, which knows neither value; knowing v2, "
                      "the best prediction is v2 + 0.5 and only v1's spread remains")
    if np.isclose(mse, 0.25, rtol=1e-3) or np.isclose(mse, 0.5, rtol=1e-3):
        raise Mistake("the MSE of predicting v2 + E[v1] is the variance of v1, not its mean or "
                      "its range")
    if np.isclose(mse, 1 / np.sqrt(12), rtol=1e-3):
        raise Mistake("that is the standard deviation of v1; the MSE is its variance")
    if mse == 0:
        raise Mistake("v1 is unknown to this model, so some error must remain")
    raise Mistake(f"{mse:.4g} is not it: the best guess is v2 + E[v1]; its MSE is Var(v1) for "
                  f"v1 uniform on [0, 1)")
