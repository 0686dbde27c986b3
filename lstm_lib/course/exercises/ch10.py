"""Self-checks for chapter 10 (long-range memory, the adding problem): a generator of the
task, the error of a model that remembers one value, and the gates of a trained GRU."""
import numpy as np

from ...cells import gru_step
from ...datasets import adding_problem
from ...gru import GRU
from ..selfcheck import Mistake, expect_array, expect_shape, self_check
from .ch01 import call


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


# --- exercise 3: inside the trained GRU ---------------------------------------------------

def gru_trace(layer, x):
    """Run the GRU layer `layer` (L.GRU) over x (batch, time, input) from a zero state, one
    `cells.gru_step` at a time in float64. Returns (z, h), each (batch, time, hidden): the update
    gate and the new state at every step."""
    return _trace(layer, x)


def _trace(layer, x, reset_gate=False, carry=True, shift=False):
    """gru_trace; `reset_gate`, `carry` and `shift` plant the typical mistakes (r recorded as z,
    the state not carried, h_prev recorded as h)."""
    p = {k: v.astype(np.float64) for k, v in layer.params.items()}
    B, T, _ = x.shape
    h = np.zeros((B, layer.hidden_size))
    zs, hs = np.empty((B, T, layer.hidden_size)), np.empty((B, T, layer.hidden_size))
    for t in range(T):
        h_in = h if carry else np.zeros_like(h)
        h_new, cache = gru_step(x[:, t].astype(np.float64), h_in, p["W_x"], p["W_h"], p["b"], p["b_hn"])
        zs[:, t] = cache.r if reset_gate else cache.z
        hs[:, t] = h_in if shift else h_new
        h = h_new
    return zs, hs


def trace_case(seed=10, B=3, T=9, H=5):
    """A small GRU with non-zero biases, for the checker, and an adding-problem batch for it."""
    rng = np.random.default_rng(seed)
    layer = GRU(2, H, dtype=np.float64, rng=rng)
    layer.params["b"][...] = rng.standard_normal(3 * H) * 0.5
    layer.params["b_hn"][...] = rng.standard_normal(H) * 0.5
    x, _ = adding_problem(B, T, rng=rng)
    return layer, x


@self_check("your trace is the GRU's: the update gate and the state at every step.")
def check_gru_trace(fn):
    """`fn(layer, x)` returns (z, h), each (batch, time, hidden), of the GRU `layer` run on x
    from a zero state."""
    layer, x = trace_case()
    before = {k: v.copy() for k, v in layer.params.items()}
    result = call(fn, layer, x.copy(), name="your gru_trace")
    if any(not np.array_equal(before[k], v) for k, v in layer.params.items()):
        raise Mistake("your function changed the layer's parameters: read them, do not write them")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake("return two arrays: z and h, each (batch, time, hidden)")
    B, T, _ = x.shape
    shape = (B, T, layer.hidden_size)
    for arr, name in zip(result, ("z", "h")):
        a = expect_array(arr, name)
        if a.shape == (T, B, layer.hidden_size):
            raise Mistake(f"{name} is time-major {a.shape}; stack over axis 1 to get (batch, time, "
                          f"hidden) = {shape}")
    z, h = (expect_shape(a, shape, n) for a, n in zip(result, ("z", "h")))
    ref_z, ref_h = _trace(layer, x)
    if np.allclose(z, ref_z, atol=1e-5) and np.allclose(h, ref_h, atol=1e-5):
        return
    if np.allclose(z, ref_h, atol=1e-5) and np.allclose(h, ref_z, atol=1e-5):
        raise Mistake("z and h are swapped: return (z, h)")
    known = [({"reset_gate": True}, ("z holds the reset gate r (the first block); the update gate z "
                                     "is the second block: cache.z")),
             ({"carry": False}, "the state is not carried: feed each step's new h into the next step"),
             ({"shift": True}, ("h is one step late: record the new state h_t that gru_step returns, "
                                "not the h_prev it was given"))]
    for kwargs, message in known:
        wz, wh = _trace(layer, x, **kwargs)
        if np.allclose(z, wz, atol=1e-5) and np.allclose(h, wh, atol=1e-5):
            raise Mistake(message)
    name = "z" if not np.allclose(z, ref_z, atol=1e-5) else "h"
    got, want = (z, ref_z) if name == "z" else (h, ref_h)
    t = int(np.argmax(np.abs(got - want).max(axis=(0, 2)) > 1e-5))
    raise Mistake(f"{name} is off from step {t} on: start each sequence at h = 0 and use "
                  f"cells.gru_step with the layer's W_x, W_h, b, b_hn")
