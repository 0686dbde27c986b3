"""Self-checks for chapter 12 (against PyTorch)."""
import numpy as np

from ...interop import require_torch
from ...lstm import LSTM
from ..selfcheck import Mistake, call, expect_array, self_check
from ..smoothness import FLAT_SIGMOID, FLAT_TANH, gate_saturation, roughness


def _roughness_cases():
    """A random walk (both signs of bending), a zig-zag and a parabola, of different lengths."""
    rng = np.random.default_rng(12)
    return [np.cumsum(rng.standard_normal(20)), np.array([0.0, 3.0, 1.0, 4.0, 1.0, 5.0, 9.0]),
            np.arange(9.0) ** 2 / 4]


@self_check("the mean absolute second difference, the same as lstm_lib.course.smoothness.roughness.")
def check_roughness(fn):
    """`fn(pred)` takes a 1-D array of at least 3 values and returns one number."""
    for p in _roughness_cases():
        out = call(fn, p.copy())
        try:
            value = float(np.asarray(out, dtype=float))
        except (TypeError, ValueError):
            raise Mistake(f"return one number (a float), got {type(out).__name__}"
                          + (f" of shape {np.shape(out)}" if np.ndim(out) else ""))
        right = roughness(p)
        if np.isclose(value, right, rtol=1e-6, atol=1e-9):
            continue
        d1, d2 = np.diff(p), np.diff(p, 2)
        known = [
            (np.mean(np.abs(d1)), ("that is the mean absolute FIRST difference |p[t+1] - p[t]|, "
                                   "which measures how fast the series moves, not how sharply it "
                                   "turns: take the difference twice, p[t+1] - 2 p[t] + p[t-1]")),
            (np.mean(d2), ("the absolute value is missing: bends up and bends down cancel out in "
                           "a plain mean; average |p[t+1] - 2 p[t] + p[t-1]|")),
            (abs(np.mean(d2)), ("the absolute value is taken after averaging; take it of each "
                                "second difference, then average")),
            (np.sum(np.abs(d2)), ("that is the sum, which grows with the length of the series; "
                                  "divide by the number of second differences (n - 2): the mean")),
            (np.sum(np.abs(d2)) / len(p), ("divided by n; there are only n - 2 second "
                                           "differences: use their mean")),
            (np.mean(d2 ** 2), ("the second differences are squared; roughness here uses their "
                                "absolute value (same units as the series)")),
            (np.mean(np.abs(p[2:] - p[:-2])), ("p[t+1] - p[t-1] skips the middle value; the "
                                               "second difference is p[t+1] - 2 p[t] + p[t-1]")),
        ]
        for wrong, message in known:
            if np.isclose(value, wrong, rtol=1e-6, atol=1e-9):
                raise Mistake(message)
        raise Mistake(f"for a series of {len(p)} values you return {value:.4g}, expected "
                      f"{right:.4g}: mean of |p[t+1] - 2 p[t] + p[t-1]| over t = 1 .. n-2")


def _saturation_case(seed, I=2, H=3, B=5, T=7):
    """A float64 LSTM with large weights and biases (about a third of its gates flat) and input."""
    rng = np.random.default_rng(seed)
    lstm = LSTM(I, H, dtype=np.float64)
    lstm.params["W_x"][...] = rng.normal(0, 3.0, (I, 4 * H))
    lstm.params["W_h"][...] = rng.normal(0, 1.5, (H, 4 * H))
    lstm.params["b"][...] = rng.normal(0, 3.0, 4 * H)
    return lstm, rng.normal(0, 1, (B, T, I))


def _saturation_mistakes(lstm, X):
    """(value, message) for the typical slips, on one case."""
    p, H = lstm.params, lstm.hidden_size
    h = lstm.forward(X)  # (B, T, H)
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    limit = np.full(4 * H, FLAT_SIGMOID)
    limit[2 * H:3 * H] = FLAT_TANH
    z = X @ p["W_x"] + h_prev @ p["W_h"] + p["b"]
    f_as_tanh = np.full(4 * H, FLAT_SIGMOID)
    f_as_tanh[H:2 * H] = FLAT_TANH
    sigmoid_cols = np.r_[0:2 * H, 3 * H:4 * H]
    return [
        (np.mean(np.abs(X @ p["W_x"] + h @ p["W_h"] + p["b"]) > limit),
         ("the gates at step t see h[t-1], the state before the step; you used h[t], the output of "
         "the same step: shift the outputs by one (h[-1] = 0)")),
        (np.mean(np.abs(X[:, 1:] @ p["W_x"] + h[:, :-1] @ p["W_h"] + p["b"]) > limit),
         "the first time step is missing: its previous state is h = 0, so z_0 = x_0 W_x + b"),
        (np.mean(np.abs(X @ p["W_x"] + p["b"]) > limit),
         "the recurrent term h[t-1] W_h is missing from the pre-activations"),
        (np.mean(np.abs(X @ p["W_x"] + h_prev @ p["W_h"]) > limit), "the bias b is missing"),
        (np.mean(np.abs(z) > FLAT_SIGMOID), (f"one threshold for all four gates: the candidate g is a "
                                             f"tanh, flat beyond |z| > {FLAT_TANH}")),
        (np.mean(np.abs(z) > FLAT_TANH), (f"one threshold for all four gates: i, f and o are "
                                          f"sigmoids, flat beyond |z| > {FLAT_SIGMOID}")),
        (np.mean(np.abs(z) > f_as_tanh), ("the tanh threshold is on the wrong block: the gates are "
                                          "ordered i, f, g, o, so g is the third block of H columns")),
        (np.mean(np.abs(z[..., sigmoid_cols]) > FLAT_SIGMOID),
         "only the three sigmoid gates are counted; the candidate g counts too"),
        (np.mean(z > limit), ("only large positive pre-activations are counted: a gate is flat for "
                              "large negative z too; compare |z|")),
        (float(np.sum(np.abs(z) > limit)), "that is the number of flat gate values; return the fraction"),
    ]


@self_check("the fraction of flat gates, the same as lstm_lib.course.smoothness.gate_saturation.")
def check_flat_fraction(fn):
    """`fn(lstm, X)` takes a float64 lstm_lib.LSTM and windows X (batch, time, input) and returns
    the fraction of gate pre-activations in the flat part of their nonlinearity."""
    cases = [_saturation_case(seed) for seed in range(3)]
    values = []
    for lstm, X in cases:
        out = call(fn, lstm, X.copy())
        try:
            values.append(float(np.asarray(out, dtype=float)))
        except (TypeError, ValueError):
            raise Mistake(f"return one number (a float), got {type(out).__name__}"
                          + (f" of shape {np.shape(out)}" if np.ndim(out) else ""))
    right = [gate_saturation(lstm, X) for lstm, X in cases]
    if np.allclose(values, right, rtol=0, atol=1e-12):
        return
    mistakes = [_saturation_mistakes(lstm, X) for lstm, X in cases]
    for k, (_, message) in enumerate(mistakes[0]):
        if np.allclose(values, [m[k][0] for m in mistakes], rtol=0, atol=1e-12):
            raise Mistake(message)
    n = [X.shape[0] * X.shape[1] * 4 * lstm.hidden_size for lstm, X in cases]
    if all(abs(v - r) <= 1.5 / m for v, r, m in zip(values, right, n)):
        return  # a gate value exactly at the threshold, counted the other way (e.g. sigmoid < 0.01)
    raise Mistake(f"fractions {', '.join(f'{v:.3f}' for v in values)} on three test LSTMs, expected "
                  f"{', '.join(f'{r:.3f}' for r in right)}: z = x[t] W_x + h[t-1] W_h + b, flat where "
                  f"|z| > {FLAT_SIGMOID} (i, f, o) or |z| > {FLAT_TANH} (g)")


def _torch_lstm(I=3, H=5, seed=12):
    """A float64 torch.nn.LSTM(I, H) with weights from a NumPy generator (the global torch
    random state is left alone) and two clearly different bias vectors."""
    torch = require_torch()
    with torch.random.fork_rng(devices=[]):  # the constructor's own init draws from torch's RNG
        module = torch.nn.LSTM(I, H, batch_first=True, dtype=torch.float64)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            scale = 1.0 if name.startswith("bias_ih") else 0.5
            p.copy_(torch.from_numpy(rng.uniform(-scale, scale, tuple(p.shape))))
    return module


def _as_numpy(value, name):
    if hasattr(value, "detach"):
        raise Mistake(f"{name} is a torch tensor; turn it into a NumPy array with "
                      f".detach().numpy()")
    return expect_array(value, name)


@self_check("an lstm_lib.LSTM with your W_x, W_h and b gives the same outputs as the torch.nn.LSTM.")
def check_copy_from_torch(fn):
    """`fn(module)` takes a one-layer torch.nn.LSTM and returns (W_x, W_h, b) as NumPy arrays in
    lstm_lib's layout: W_x (I, 4H), W_h (H, 4H), b (4H,)."""
    I, H = 3, 5
    try:
        module = _torch_lstm(I, H)
    except ImportError as exc:
        raise Mistake(f"this exercise needs PyTorch: {exc}") from None
    w_ih, w_hh = module.weight_ih_l0.detach().numpy(), module.weight_hh_l0.detach().numpy()
    b_ih, b_hh = module.bias_ih_l0.detach().numpy(), module.bias_hh_l0.detach().numpy()
    out = call(fn, module)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Mistake("return three arrays: W_x, W_h, b")
    W_x, W_h, b = (_as_numpy(v, n) for v, n in zip(out, ("W_x", "W_h", "b")))

    if W_x.shape == (H, 4 * H) and W_h.shape == (I, 4 * H):
        raise Mistake("W_x and W_h are swapped: W_x comes from weight_ih_l0 (the input weights), "
                       "W_h from weight_hh_l0")
    for arr, torch_w, name, torch_name, rows in ((W_x, w_ih, "W_x", "weight_ih_l0", I),
                                                 (W_h, w_hh, "W_h", "weight_hh_l0", H)):
        if arr.shape == torch_w.shape:
            raise Mistake(f"{name} has shape {arr.shape}, expected {(rows, 4 * H)}: PyTorch stores "
                          f"{torch_name} as (4H, {'I' if rows == I else 'H'}); transpose it with .T")
        if arr.shape != (rows, 4 * H):
            raise Mistake(f"{name} has shape {arr.shape}, expected {(rows, 4 * H)}")
        if np.allclose(arr, torch_w.reshape(rows, 4 * H)):
            raise Mistake(f"{name} is {torch_name}.reshape(...): a reshape keeps the numbers in "
                          f"memory order and scrambles rows and columns; use the transpose .T")
        if not np.allclose(arr, torch_w.T):
            raise Mistake(f"{name} is not {torch_name}.T (largest difference "
                          f"{np.max(np.abs(arr - torch_w.T)):.3g}); keep the gate order as it is: "
                          f"both libraries use i, f, g, o")
    if b.shape != (4 * H,):
        raise Mistake(f"b has shape {b.shape}, expected {(4 * H,)}")
    bias_mistakes = [
        (b_ih, "b is bias_ih_l0 alone; PyTorch adds bias_hh_l0 as well: b = bias_ih + bias_hh"),
        (b_hh, "b is bias_hh_l0 alone; PyTorch adds bias_ih_l0 as well: b = bias_ih + bias_hh"),
        ((b_ih + b_hh) / 2, ("b is the average of the two biases; they are added, not averaged: "
                             "b = bias_ih + bias_hh")),
        (np.zeros(4 * H), "b is zero; it is bias_ih + bias_hh"),
    ]
    for wrong, message in bias_mistakes:
        if np.allclose(b, wrong):
            raise Mistake(message)
    if not np.allclose(b, b_ih + b_hh):
        raise Mistake(f"b is off by up to {np.max(np.abs(b - (b_ih + b_hh))):.3g}: "
                      f"b = bias_ih_l0 + bias_hh_l0")

    # the proof: the same function
    torch = require_torch()
    layer = LSTM(I, H, dtype=np.float64)
    layer.params["W_x"][...], layer.params["W_h"][...], layer.params["b"][...] = W_x, W_h, b
    x = np.random.default_rng(0).standard_normal((2, 4, I))
    with torch.no_grad():
        theirs = module(torch.from_numpy(x))[0].numpy()
    if not np.allclose(layer.forward(x), theirs, atol=1e-12):
        raise Mistake("the arrays look right but the layer's outputs differ from torch's")
