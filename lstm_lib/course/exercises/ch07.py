"""Self-checks for chapter 07 (training): an Adam step, clipping by global norm, and one epoch
of truncated BPTT with carried state, each checked against the library (L.Adam,
L.clip_grad_norm, L.fit) to rounding."""
import numpy as np

from ...base import Sequential
from ...layers import Linear
from ...losses import MSELoss
from ...lstm import LSTM
from ...optim import Adam
from ...training import fit
from ..selfcheck import Mistake, expect_array, self_check
from ..training_tasks import echo_streams


def _grads(scale):
    rng = np.random.default_rng(7)
    return [rng.standard_normal((3, 8)) * scale, rng.standard_normal((2, 8)) * scale,
            rng.standard_normal(8) * scale]


def _reference_clip(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads]


@self_check("all arrays are scaled by one common factor, and only when the global norm is too big.")
def check_clip(fn):
    """`fn(grads, max_norm)` takes a list of arrays and returns the clipped list (new arrays or
    the same ones changed in place)."""
    for scale, max_norm in ((5.0, 1.0), (0.05, 1.0)):
        grads = _grads(scale)
        originals = [g.copy() for g in grads]
        try:
            out = fn(grads, max_norm)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
        if out is None:
            out = grads
        if not isinstance(out, (list, tuple)) or len(out) != 3:
            raise Mistake("return the list of clipped gradient arrays, one per input array")
        out = [expect_array(o, "clipped gradient") for o in out]
        ref = _reference_clip(originals, max_norm)
        if all(o.shape == r.shape and np.allclose(o, r, rtol=1e-5, atol=1e-9) for o, r in zip(out, ref)):
            continue
        if scale < 1:
            raise Mistake("the gradients were already below max_norm and must come back unchanged; "
                          "scale only when the global norm is larger than max_norm")
        per_array = [g * min(1.0, max_norm / np.linalg.norm(g)) for g in originals]
        if all(np.allclose(o, p, rtol=1e-5) for o, p in zip(out, per_array)):
            raise Mistake("each array was clipped by its own norm; use ONE norm over all arrays "
                          "together (sqrt of the sum of all squares), so the direction is kept")
        if all(np.allclose(o, np.clip(g, -max_norm, max_norm)) for o, g in zip(out, originals)):
            raise Mistake("np.clip cuts each element separately and changes the direction; scale "
                          "all arrays by max_norm / global_norm instead")
        norm = np.sqrt(sum(np.sum(o * o) for o in out))
        raise Mistake(f"after clipping the global norm is {norm:.3g}; it should be {max_norm:g}")


# --- Adam ------------------------------------------------------------------------------------

def _adam(p, g, m, v, t, lr, b1, b2, eps, *, correct_m=True, correct_v=True, t_shift=0,
          eps_inside=False, square=True, sqrt=True, decay_m=True, sign=-1.0):
    """Adam's step with switches that reproduce the usual mistakes (all off: the right step)."""
    m = b1 * m + ((1 - b1) if decay_m else 1.0) * g
    v = b2 * v + (1 - b2) * (g * g if square else g)
    tt = t + t_shift
    with np.errstate(all="ignore"):
        m_hat = m / (1 - b1 ** tt) if correct_m else m
        v_hat = v / (1 - b2 ** tt) if correct_v else v
        denom = np.sqrt(v_hat + eps) if eps_inside else (np.sqrt(v_hat) if sqrt else v_hat) + eps
        return p + sign * lr * m_hat / denom, m, v


ADAM_MISTAKES = [
    ({"correct_m": False, "correct_v": False}, ("the bias correction is missing: divide m by "
     "(1 - beta1**t) and v by (1 - beta2**t); without it the first steps have the wrong size")),
    ({"correct_m": False}, "m is not bias-corrected: use m / (1 - beta1**t)"),
    ({"correct_v": False}, "v is not bias-corrected: use v / (1 - beta2**t)"),
    ({"t_shift": 1}, "the bias correction uses t + 1; t is already the step number (1 on the first step)"),
    ({"t_shift": -1}, "the bias correction uses t - 1; t is the step number, 1 on the first step"),
    ({"eps_inside": True}, ("eps goes outside the square root: sqrt(v_hat) + eps (as "
     "torch.optim.Adam); inside it changes the step of parameters with tiny gradients")),
    ({"square": False}, "v is the running average of the SQUARED gradient: beta2 * v + (1 - beta2) * g * g"),
    ({"sqrt": False}, "divide by the square root of v_hat, not by v_hat itself"),
    ({"decay_m": False}, "m is an average: beta1 * m + (1 - beta1) * g, not beta1 * m + g"),
    ({"sign": 1.0}, "the step goes uphill: subtract, p - lr * m_hat / (sqrt(v_hat) + eps)"),
]


class _OneArray:
    """A 'layer' with one parameter array, for driving L.Adam."""

    def __init__(self, p):
        self.params, self.grads = {"w": p}, {"w": np.zeros_like(p)}


@self_check("the same numbers as L.Adam, step after step.")
def check_adam_step(fn):
    """`fn(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)` returns (new_p, new_m, new_v)
    for Adam's step number t (t = 1 on the first step); m and v start as zeros."""
    rng = np.random.default_rng(11)
    scale = np.array([1.0, 1.0, 0.1, 3.0, 1e-6, 1e-7])  # the last two: tiny gradients
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    layer = _OneArray(rng.standard_normal(6))
    reference = Adam(layer, lr=lr, betas=(b1, b2), eps=eps)
    p, m, v = layer.params["w"].copy(), np.zeros(6), np.zeros(6)
    for t in range(1, 6):
        g = rng.standard_normal(6) * scale
        layer.grads["w"][...] = g
        reference.step()
        try:
            result = fn(p.copy(), g.copy(), m.copy(), v.copy(), t, lr, b1, b2, eps)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise Mistake("return three arrays: the new p, m and v")
        new_p, new_m, new_v = (expect_array(r, n) for r, n in zip(result, "pmv"))
        if np.allclose(new_p, layer.params["w"], rtol=1e-9, atol=1e-12):
            p, m, v = new_p, new_m, new_v
            continue
        for switches, message in ADAM_MISTAKES:
            wrong = _adam(p, g, m, v, t, lr, b1, b2, eps, **switches)
            if all(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
                   for a, b in zip((new_p, new_m, new_v), wrong)):
                raise Mistake(f"step {t}: {message}")
        if not np.isfinite(new_p).all():
            raise Mistake(f"step {t}: the new p contains NaN or inf (a division by zero?)")
        raise Mistake(f"step {t}: p is off by up to {np.max(np.abs(new_p - layer.params['w'])):.3g} "
                      f"from L.Adam's; m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, "
                      f"p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)")


# --- truncated BPTT --------------------------------------------------------------------------

def _pair(seed=4):
    rng = np.random.default_rng(seed)
    return LSTM(1, 5, rng=rng), Linear(5, 1, rng=rng)


def _wrong_epoch(lstm, readout, loss_fn, opt, X, Y, window, mistake):
    """One epoch with a typical mistake: 'reset' (no carry), 'h_only' (c restarts at zero),
    'one_update' (one step per epoch from summed gradients), 'full' (full BPTT)."""
    if mistake == "full":
        loss = loss_fn.forward(readout.forward(lstm.forward(X)), Y)
        lstm.backward(readout.backward(loss_fn.backward()))
        opt.step()
        return [loss]
    h = c = None
    losses, summed = [], None
    for s in range(0, X.shape[1], window):
        loss = loss_fn.forward(readout.forward(lstm.forward(X[:, s:s + window], h, c)), Y[:, s:s + window])
        lstm.backward(readout.backward(loss_fn.backward()))
        losses.append(loss)
        if mistake == "one_update":
            grads = [g.copy() for g in (*lstm.grads.values(), *readout.grads.values())]
            summed = grads if summed is None else [a + b for a, b in zip(summed, grads)]
        else:
            opt.step()
        if mistake == "h_only":
            h = lstm.state[0]
        elif mistake != "reset":
            h, c = lstm.state
    if mistake == "one_update":
        for g, total in zip((*lstm.grads.values(), *readout.grads.values()), summed):
            g[...] = total
        opt.step()
    return losses


TBPTT_MISTAKES = {
    "reset": "every window starts from a zero state: carry (h, c) from the end of one window into "
             "the next (lstm.state after its forward) and pass them as h0, c0",
    "h_only": "h is carried but c starts from zero in every window: the cell state is the "
              "LSTM's memory, carry it too (h, c = lstm.state)",
    "one_update": "the gradients of all windows are added up and the optimiser steps once per "
                  "epoch: truncated BPTT updates after every window",
    "full": "that is full BPTT, one forward and backward over the whole stream: cut it into "
            "windows of `window` steps",
}


@self_check("the same losses and weights as L.fit(..., bptt=window), epoch after epoch.")
def check_tbptt_epoch(fn):
    """`fn(lstm, readout, loss_fn, optimizer, X, Y, window)` trains one epoch of truncated BPTT
    over the streams X, Y (batch, time, 1), starting from a zero state, and returns the list of
    window losses. It is called twice (two epochs) and compared with L.fit."""
    X, Y = echo_streams(4, 50, delay=3, seed=2)
    window = 8  # 7 windows per stream: six of 8 steps and one of 2
    n_windows = -(-X.shape[1] // window)
    lstm, readout = _pair()
    opt = Adam(Sequential(lstm, readout), lr=0.05)
    got = []
    for _epoch in range(2):
        try:
            losses = fn(lstm, readout, MSELoss(), opt, X, Y, window)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
            raise Mistake(f"your function raised {type(exc).__name__}: {exc}")
        if np.ndim(losses) != 1:
            raise Mistake("return the list of losses, one per window")
        if len(losses) == 1:
            raise Mistake(TBPTT_MISTAKES["full"])
        if len(losses) == n_windows - 1:
            raise Mistake(f"{n_windows - 1} losses: the last, shorter window (steps 48 and 49) is "
                          f"missing; range(0, T, window) gives {n_windows} windows")
        if len(losses) != n_windows:
            raise Mistake(f"{len(losses)} losses for {X.shape[1]} steps in windows of {window}: "
                          f"expected {n_windows}, one per window (range(0, T, window), the last "
                          f"window shorter)")
        got.extend(float(x) for x in losses)
    ref_model = Sequential(*_pair())
    hist = fit(ref_model, MSELoss(), Adam(ref_model, lr=0.05), X, Y, epochs=2, bptt=window,
               progress=False)
    mine = Sequential(lstm, readout)
    if np.allclose(got, hist.loss, rtol=1e-5, atol=1e-7) and all(
            np.allclose(mine.params[k], p, rtol=1e-5, atol=1e-7) for k, p in ref_model.params.items()):
        return
    for mistake, message in TBPTT_MISTAKES.items():
        wl, wr = _pair()
        wopt = Adam(Sequential(wl, wr), lr=0.05)
        wrong = [x for _ in range(2) for x in _wrong_epoch(wl, wr, MSELoss(), wopt, X, Y, window, mistake)]
        if len(wrong) == len(got) and np.allclose(got, wrong, rtol=1e-5, atol=1e-7):
            raise Mistake(message)
    k = next((i for i, (a, b) in enumerate(zip(got, hist.loss))
              if not np.isclose(a, b, rtol=1e-5, atol=1e-7)), None)
    if k is None:
        raise Mistake("the losses agree with L.fit but the final weights do not: is the last "
                      "window's update applied?")
    raise Mistake(f"window {k % n_windows + 1} of epoch {k // n_windows + 1}: your loss {got[k]:.5g}, "
                  f"L.fit's {hist.loss[k]:.5g} (the earlier windows agree): forward with the "
                  f"carried state, backward, optimizer.step(), then carry lstm.state on")
