"""Self-checks for chapter 06 (backpropagation through time): the backward step of an LSTM
with peepholes, the backward loop in windows (truncated BPTT), and a gradient check."""
from typing import NamedTuple

import numpy as np

from ...activations import sigmoid, sigmoid_grad, tanh_grad
from ...cells import lstm_step, lstm_step_backward
from ..selfcheck import Mistake, expect_array, expect_finite, expect_shape, self_check
from .ch01 import call

# --- exercise 1: the backward step of the peephole LSTM -----------------------------------

PEEP_NAMES = ("dx", "dh_prev", "dc_prev", "dW_x", "dW_h", "db", "dp")


class PeepholeCache(NamedTuple):
    """What peephole_step keeps for its backward."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    c_prev: np.ndarray  # (batch, H)
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray  # the new cell c_t
    tanh_c: np.ndarray
    W_x: np.ndarray  # (input, 4H)
    W_h: np.ndarray  # (H, 4H)
    p: np.ndarray  # (3, H): the peephole weights p_i, p_f, p_o


def peephole_step(x, h_prev, c_prev, W_x, W_h, b, p):
    """One LSTM step with peepholes (Gers & Schmidhuber 2000): the gates also read the cell.

        z = x W_x + h_prev W_h + b                       blocks i, f, g, o
        i = sigmoid(z_i + p_i * c_prev)   f = sigmoid(z_f + p_f * c_prev)   g = tanh(z_g)
        c = f * c_prev + i * g
        o = sigmoid(z_o + p_o * c)                        (o reads the new cell)
        h = o * tanh(c)
    Returns h, c and a PeepholeCache."""
    H = h_prev.shape[1]
    z = x @ W_x + h_prev @ W_h + b  # (batch, 4H)
    i = sigmoid(z[:, :H] + p[0] * c_prev)
    f = sigmoid(z[:, H:2 * H] + p[1] * c_prev)
    g = np.tanh(z[:, 2 * H:3 * H])
    c = f * c_prev + i * g
    o = sigmoid(z[:, 3 * H:] + p[2] * c)
    tc = np.tanh(c)
    return o * tc, c, PeepholeCache(x, h_prev, c_prev, i, f, g, o, c, tc, W_x, W_h, p)


def peephole_inputs(seed=6, B=3, I=2, H=4):
    """x, h_prev, c_prev, W_x, W_h, b, p of one peephole step with all sizes different, and the
    gradients dh, dc_next arriving at h_t and c_t."""
    rng = np.random.default_rng(seed)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    W_x, W_h = rng.standard_normal((I, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5
    b, p = rng.standard_normal(4 * H) * 0.5, rng.standard_normal((3, H))
    return (x, h, c, W_x, W_h, b, p), (rng.standard_normal((B, H)), rng.standard_normal((B, H)))


def peephole_case():
    """(dh, dc_next, cache) of the checker's peephole step."""
    args, (dh, dc) = peephole_inputs()
    return dh, dc, peephole_step(*args)[2]


def peephole_backward(dh, dc_next, cache, carry=True, o_into_c=True, peep_into_c_prev=True,
                      o_reads_c_prev=False):
    """The peephole step backward; the switches plant the typical mistakes (all True/False as
    default: correct). Returns dx, dh_prev, dc_prev, dW_x, dW_h, db, dp."""
    x, h_prev, c_prev, i, f, g, o, c, tc, W_x, W_h, p = cache
    do = dh * tc
    dzo = do * sigmoid_grad(o)
    dc = dh * o * tanh_grad(tc) + (dc_next if carry else 0)  # through h_t, and from c_(t+1)
    if o_into_c:
        dc = dc + dzo * p[2]  # o reads c_t through p_o
    dzi, dzf, dzg = dc * g * sigmoid_grad(i), dc * c_prev * sigmoid_grad(f), dc * i * tanh_grad(g)
    dz = np.concatenate([dzi, dzf, dzg, dzo], axis=1)  # (batch, 4H)
    dc_prev = dc * f + ((dzi * p[0] + dzf * p[1]) if peep_into_c_prev else 0)
    dp = np.stack([(dzi * c_prev).sum(0), (dzf * c_prev).sum(0),
                   (dzo * (c_prev if o_reads_c_prev else c)).sum(0)])
    return dz @ W_x.T, dz @ W_h.T, dc_prev, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0), dp


def _all_close(got, want):
    return all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, want))


@self_check("all seven gradients of your peephole step are right: the cell gets gradient from o, "
            "and c_prev from f, i and the highway.")
def check_peephole_backward(fn):
    """`fn(dh, dc_next, cache)` with cache from peephole_step must return
    (dx, dh_prev, dc_prev, dW_x, dW_h, db, dp)."""
    dh, dc, cache = peephole_case()
    result = call(fn, dh.copy(), dc.copy(), cache, name="your backward step")
    if not isinstance(result, (tuple, list)) or len(result) != 7:
        raise Mistake("return seven arrays: dx, dh_prev, dc_prev, dW_x, dW_h, db, dp")
    ref = peephole_backward(dh, dc, cache)
    got = [expect_shape(r, np.shape(e), n) for r, e, n in zip(result, ref, PEEP_NAMES)]
    for g, n in zip(got, PEEP_NAMES):
        expect_finite(g, n)
    if _all_close(got, ref):
        return
    known = [
        ({"carry": False}, ("the gradient dc_next arriving from the next step is not added: "
                           "dc = dc_next + dh * o * (1 - tanh(c)^2) + ...")),
        ({"o_into_c": False}, ("the output gate reads c_t through p_o, so c_t gets gradient from it too: "
                              "add dz_o * p_o to dc before it flows into i, f, g and back")),
        ({"peep_into_c_prev": False}, ("c_prev feeds the gates i and f through p_i and p_f, not only the "
                                      "highway: dc_prev = dc * f + dz_i * p_i + dz_f * p_f")),
        ({"o_reads_c_prev": True}, ("the output gate's peephole reads the new cell: dp_o = sum over the "
                                   "batch of dz_o * c_t, not dz_o * c_prev")),
        ({"o_into_c": False, "peep_into_c_prev": False},
         ("the peepholes are missing from both cell gradients: dc needs + dz_o * p_o, and "
          "dc_prev = dc * f + dz_i * p_i + dz_f * p_f")),
    ]
    for kwargs, message in known:
        if _all_close(got, peephole_backward(dh, dc, cache, **kwargs)):
            raise Mistake(message)
    wrong = [n for a, e, n in zip(got, ref, PEEP_NAMES) if not np.allclose(a, e, atol=1e-8)]
    hints = {"dx": "dx = dz @ W_x.T", "dh_prev": "dh_prev = dz @ W_h.T",
             "dc_prev": "dc_prev = dc * f + dz_i * p_i + dz_f * p_f",
             "dW_x": "dW_x = x.T @ dz", "dW_h": "dW_h = h_prev.T @ dz", "db": "db = dz.sum(axis=0)",
             "dp": "dp = [sum(dz_i * c_prev), sum(dz_f * c_prev), sum(dz_o * c)], sums over the batch"}
    raise Mistake(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong; "
                  f"start with {wrong[0]}: {hints[wrong[0]]}")


# --- exercise 2: the backward loop in windows (truncated BPTT) -----------------------------

def windows_case(seed=7, B=2, T=10, I=2, H=3):
    """(dhs (B, T, H), caches of lstm_step over T steps, x, W_x, W_h, b). T = 10 with windows
    of 4 makes every typical mistake below cut at different steps."""
    rng = np.random.default_rng(seed)
    W_x, W_h = rng.standard_normal((I, 4 * H)) * 0.6, rng.standard_normal((H, 4 * H)) * 0.6
    b = rng.standard_normal(4 * H) * 0.3 + np.repeat([0.0, 1.0, 0.0, 0.0], H)
    x, dhs = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    h = c = np.zeros((B, H))
    caches = []
    for t in range(T):
        h, c, cache = lstm_step(x[:, t], h, c, W_x, W_h, b)
        caches.append(cache)
    return dhs, caches, x, W_x, W_h, b


def cut_steps(T, window, from_end=False, shift=0):
    """The steps t that receive nothing from step t + 1: the last step of each window
    (windows counted from t = 0), or the typical mistakes (from the end, one step off)."""
    if from_end:
        return {t for t in range(T - 1) if (T - 1 - t) % window == 0}
    return {t for t in range(T - 1) if (t + 1 + shift) % window == 0}


def windowed_backward(dhs, caches, window, cut_h=True, cut_c=True, from_end=False, shift=0,
                      sum_windows=True):
    """Backward through time with the carried gradients set to zero where a window ends; the
    switches plant the typical mistakes. Returns dx, dW_x, dW_h, db."""
    B, T, H = dhs.shape
    cuts = cut_steps(T, window, from_end, shift)
    dW_x, dW_h, db = np.zeros_like(caches[0].W_x), np.zeros_like(caches[0].W_h), np.zeros(4 * H)
    dx = np.zeros((B, T, caches[0].W_x.shape[0]))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in reversed(range(T)):
        if t in cuts:
            dh_next = np.zeros_like(dh_next) if cut_h else dh_next
            dc_next = np.zeros_like(dc_next) if cut_c else dc_next
            if not sum_windows:
                dW_x, dW_h, db = np.zeros_like(dW_x), np.zeros_like(dW_h), np.zeros_like(db)
        dx[:, t], dh_next, dc_next, dWx, dWh, dbt = lstm_step_backward(dhs[:, t] + dh_next, dc_next, caches[t])
        dW_x, dW_h, db = dW_x + dWx, dW_h + dWh, db + dbt
    return dx, dW_x, dW_h, db


@self_check("nothing crosses a window boundary, and the weight gradients add up over the windows: "
            "truncated BPTT.")
def check_backward_in_windows(fn):
    """`fn(dhs, caches, window)` returns dx, dW_x, dW_h, db of the backward pass in which the
    gradients carried back (dh_next, dc_next) are set to zero where a window of `window` steps
    (counted from t = 0) begins."""
    dhs, caches, *_ = windows_case()
    window = 4  # T = 10: windows 0-3, 4-7, 8-9
    result = call(fn, dhs.copy(), list(caches), window, name="your backward loop")
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        raise Mistake("return four arrays: dx, dW_x, dW_h, db")
    ref = windowed_backward(dhs, caches, window)
    names = ("dx", "dW_x", "dW_h", "db")
    got = [expect_shape(r, np.shape(e), n) for r, e, n in zip(result, ref, names)]
    if _all_close(got, ref):
        return
    known = [
        ({"cut_h": False, "cut_c": False}, ("nothing is cut: at each window boundary set both dh_next "
                                           "and dc_next to zero before the step")),
        ({"cut_h": False}, ("dh_next still crosses the window boundary; cut both dh_next and dc_next")),
        ({"cut_c": False}, ("dc_next still crosses the window boundary (the highway); cut both dh_next "
                           "and dc_next")),
        ({"from_end": True}, ("your windows are counted from the end of the sequence; they start at "
                             "t = 0: steps 0..window-1, window..2*window-1, ...")),
        ({"shift": 1}, ("the cut is one step off: the last step of a window (t = window - 1) must "
                       "receive nothing from the first step of the next (t = window)")),
        ({"shift": -1}, ("the cut is one step off: the last step of a window (t = window - 1) must "
                        "receive nothing from the first step of the next (t = window)")),
        ({"sum_windows": False}, ("dW_x, dW_h and db hold only the first window's part: cut the carried "
                                 "gradients, not the sums of the weight gradients")),
    ]
    for kwargs, message in known:
        if _all_close(got, windowed_backward(dhs, caches, window, **kwargs)):
            raise Mistake(message)
    wrong = [n for a, e, n in zip(got, ref, names) if not np.allclose(a, e, atol=1e-8)]
    raise Mistake(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong: walk t = T-1 .. 0 "
                  f"as in lstm_backward, and where step t is the last of its window (t + 1 a "
                  f"multiple of window, t < T - 1) zero dh_next and dc_next first")


# --- exercise 3: a gradient check ---------------------------------------------------------

def central_check(loss, param, analytic, eps=1e-5, one_sided=False, absolute=False, mean=False):
    """The worst relative error of `analytic` against central differences (or a typical
    mistake of it). `loss()` reads `param`, which is changed in place and restored."""
    numeric = np.zeros_like(param)
    for idx in np.ndindex(*param.shape):
        old = param[idx]
        param[idx] = old + eps
        up = loss()
        param[idx] = old if one_sided else old - eps
        down = loss()
        param[idx] = old
        numeric[idx] = (up - down) / (eps if one_sided else 2 * eps)
    diff = np.abs(analytic - numeric)
    err = diff if absolute else diff / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)
    return float(err.mean() if mean else err.max())


def _gc_cases():
    """(name, loss, param, analytic) for the checker: a smooth loss with its right gradient, the
    same with one wrong entry, a loss a million times larger, and one with zero gradients."""
    rng = np.random.default_rng(3)
    a, p = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    q = p.copy()
    q[0, :2] = 0.0  # entries whose gradient is exactly 0
    wrong = a * np.cos(p)
    wrong[1, 2] *= -1.0
    return [("right", lambda: float(np.sum(a * np.sin(p))), p, a * np.cos(p)),
            ("one wrong entry", lambda: float(np.sum(a * np.sin(p))), p, wrong),
            ("large loss", lambda: 1e6 * float(np.sum(a * np.sin(p))), p, 1e6 * a * np.cos(p)),
            ("zeros", lambda: float(np.sum(a * q ** 2)), q, 2 * a * q)]


@self_check("central differences, the worst relative error over all entries, the parameter left "
            "as it was.")
def check_gradient_check(fn):
    """`fn(loss, param, analytic, eps)` returns the worst relative error |a - n| / (|a| + |n|)
    over all entries of `param`, n from central differences of `loss()` (which reads `param`
    in place); `param` must be unchanged afterwards."""
    for name, loss, param, analytic in _gc_cases():
        before = param.copy()
        got = call(fn, loss, param, analytic.copy(), 1e-5, name="gradient_check")
        if not np.array_equal(param, before, equal_nan=True):
            param[...] = before
            raise Mistake("param was left changed: put each entry back to its old value after the "
                          "two evaluations of the loss")
        value = expect_array(got, "your result")
        if value.size != 1:
            raise Mistake(f"return one number, the worst relative error, not {value.size} of them")
        value = float(value.reshape(()))
        if np.isnan(value):
            raise Mistake("the result is NaN: where both gradients are 0 the relative error is "
                          "0 / 0; divide by np.maximum(|a| + |n|, 1e-12)")
        want = central_check(loss, param, analytic)
        if name == "one wrong entry":
            if value > 0.5:
                continue
            if np.isclose(value, central_check(loss, param, analytic, mean=True), rtol=1e-3):
                raise Mistake("you averaged the errors: one wrong entry must fail the check, so "
                              "return the worst (largest) relative error")
            raise Mistake(f"a gradient with one wrong entry (sign flipped) got {value:.2g}; its "
                          f"relative error is 1: is your error relative, per entry, and the max?")
        if value < 1e-7:
            continue
        if np.isclose(value, central_check(loss, param, analytic, one_sided=True), rtol=1e-2):
            raise Mistake(f"{value:.1e} on a correct gradient: that is a one-sided difference "
                          f"(f(p + eps) - f(p)) / eps, whose error is of order eps; use "
                          f"(f(p + eps) - f(p - eps)) / (2 eps)")
        if np.isclose(value, central_check(loss, param, analytic, absolute=True), rtol=1e-2):
            raise Mistake(f"{value:.1e} on a correct gradient of a large loss: that is the absolute "
                          f"error; divide by |a| + |n| so that large and small entries count the same")
        raise Mistake(f"{value:.1e} on a correct gradient (central differences give {want:.0e}): "
                      f"compare n = (loss(p + eps) - loss(p - eps)) / (2 eps) with the analytic entry")
