"""Self-checks for chapter 06 (backpropagation through time): the backward step of an LSTM
with peepholes, the backward loop in windows (truncated BPTT), and a gradient check of every
parameter at once along a random direction."""
from typing import NamedTuple

import numpy as np

from ...activations import sigmoid, sigmoid_grad, tanh_grad
from ...cells import lstm_step, lstm_step_backward
from ..selfcheck import Mistake, call, expect_array, expect_finite, expect_shape, self_check

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


# --- exercise 3: a gradient check along one random direction ------------------------------

def directional_check(loss, params, grads, eps=1e-5, seed=0, one_sided=False, absolute=False,
                      arrays=None):
    """The relative error between sum_k <grads[k], V_k> and the central difference of `loss()`
    along a random direction V (one standard-normal array per parameter, from `seed`), all
    arrays of `params` moved together in place and put back. The switches plant the typical
    mistakes: a one-sided difference, the absolute error, only the first `arrays` arrays moved
    and summed."""
    rng = np.random.default_rng(seed)
    names = list(params)[:arrays]
    V = {k: rng.standard_normal(params[k].shape) for k in names}
    saved = {k: params[k].copy() for k in names}
    for k in names:
        params[k] += eps * V[k]
    up = loss()
    for k in names:
        params[k][...] = saved[k] if one_sided else saved[k] - eps * V[k]
    down = loss()
    for k in names:
        params[k][...] = saved[k]
    n = (up - down) / (eps if one_sided else 2 * eps)
    a = float(sum(np.sum(grads[k] * V[k]) for k in names))
    return abs(a - n) if absolute else abs(a - n) / max(abs(a) + abs(n), 1e-12)


def directional_case(scale=1.0, seed=8, B=2, T=4, I=2, H=3):
    """(loss, params, grads) of an LSTM layer in float64 with L = scale * sum(h * R): params is
    the layer's own dict (the loss reads it), grads the right gradients from its backward."""
    from ...lstm import LSTM

    layer = LSTM(I, H, dtype=np.float64, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    x, R = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H)) * scale

    def loss():
        layer.reset_state()
        return float(np.sum(layer.forward(x) * R))

    loss()
    layer.backward(R)
    return loss, layer.params, {k: g.copy() for k, g in layer.grads.items()}


def _run_directional(fn, loss, params, grads, eps=1e-5, seed=0, what="a correct gradient"):
    before = {k: p.copy() for k, p in params.items()}
    value = call(fn, loss, params, {k: g.copy() for k, g in grads.items()}, eps, seed,
                 name="directional_check")
    moved = [k for k, p in params.items() if not np.allclose(p, before[k], rtol=1e-12, atol=1e-14)]
    for k in params:
        params[k][...] = before[k]
    if moved:
        raise Mistake(f"{', '.join(moved)} {'was' if len(moved) == 1 else 'were'} left changed: put "
                      f"every array back to its old value after the two evaluations of the loss")
    value = expect_array(value, "your result")
    if value.size != 1:
        raise Mistake(f"return one number, the relative error, not {value.size} of them")
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise Mistake(f"the result on {what} is {value}: divide by max(|a| + |n|, 1e-12)")
    return value


@self_check("two forward passes check every parameter at once: moved together along V, put back, "
            "compared with sum(grads * V) by a relative error.")
def check_directional(fn):
    """`fn(loss, params, grads, eps, seed)` returns |a - n| / (|a| + |n|) with n the central
    difference of `loss()` along a random direction V of all arrays in `params` (moved in place
    and restored) and a = sum over the arrays of sum(grads[k] * V[k])."""
    loss, params, grads = directional_case()
    right = [_run_directional(fn, loss, params, grads, seed=s) for s in (0, 1, 2)]
    if max(right) > 1e-7:
        worst = max(right)
        coarse = _run_directional(fn, loss, params, grads, eps=1e-4)  # seed 0, eps ten times larger
        if 5 < coarse / max(right[0], 1e-300) < 20:
            raise Mistake(f"{worst:.1e} on a correct gradient, and ten times more with eps ten times "
                          f"larger: that is a one-sided difference (L(p + eps V) - L(p)) / eps, whose "
                          f"error is of order eps; use (L(p + eps V) - L(p - eps V)) / (2 eps)")
        raise Mistake(f"{worst:.1e} on a correct gradient, where central differences give about 1e-10: "
                      f"move every array by +eps V and by -eps V, n = (up - down) / (2 eps), and "
                      f"a = sum over all arrays of np.sum(grads[k] * V[k])")
    big_loss, big_params, big_grads = directional_case(scale=1e6)
    big = _run_directional(fn, big_loss, big_params, big_grads, what="a correct gradient of a large loss")
    if big > 1e-7:
        raise Mistake(f"{big:.1e} on a correct gradient of a loss a million times larger: that is the "
                      f"absolute error |a - n|; divide by |a| + |n| so the size of the loss does not matter")
    for name in params:
        wrong = {k: g * (1.5 if k == name else 1.0) for k, g in grads.items()}
        caught = [_run_directional(fn, loss, params, wrong, seed=s, what=f"a gradient with {name} wrong")
                  for s in (0, 1, 2)]
        if max(caught) < 1e-3:
            raise Mistake(f"with grads[{name!r}] 1.5 times too large your check still reports "
                          f"{max(caught):.1e}: every array must move along its own part of V, and a "
                          f"sums np.sum(grads[k] * V[k]) over all of them")
