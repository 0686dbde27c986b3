"""Self-checks for chapter 14 (which parts matter: LSTM variants)."""
from dataclasses import replace

import numpy as np

from ...activations import sigmoid
from ...variants import CIFGLSTM, variant_gates_backward, variant_step
from ..selfcheck import Mistake, expect_array, expect_shape, self_check

NAMES = ("dx", "dh_prev", "dc_prev", "dW_x", "dW_h", "db")


def cifg_case(seed=14, B=3, I=2, H=4):
    """Inputs of one CIFG step with all sizes different: x, h_prev, c_prev, W_x, W_h, b
    (three gate blocks f, g, o) and the gradients dh, dc arriving at h and c."""
    rng = np.random.default_rng(seed)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    W_x, W_h = rng.standard_normal((I, 3 * H)) * 0.7, rng.standard_normal((H, 3 * H)) * 0.7
    b = rng.standard_normal(3 * H) * 0.5
    return (x, h, c, W_x, W_h, b), (rng.standard_normal((B, H)), rng.standard_normal((B, H)))


def _reference(args, grads, **wrong):
    """(h, c) and the six gradients of a CIFG step; `wrong` switches change the backward only."""
    x, h_prev, c_prev, W_x, W_h, b = args
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    h, c, cache = variant_step(x, h_prev, c_prev, params, CIFGLSTM.spec)
    spec = replace(CIFGLSTM.spec, **wrong)
    dz, dc_prev = variant_gates_backward(*grads, cache, params, spec)
    return (h, c), (dz @ W_x.T, dz @ W_h.T, dc_prev, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0))


def _forward_variants(args):
    """The CIFG forward with the usual mistakes, to recognise them: name -> (h, c)."""
    x, h_prev, c_prev, W_x, W_h, b = args
    H = h_prev.shape[1]
    z = x @ W_x + h_prev @ W_h + b
    f, g, o = sigmoid(z[:, :H]), np.tanh(z[:, H:2 * H]), sigmoid(z[:, 2 * H:])
    out = {}
    c = f * c_prev + f * g
    out["i = f: the input gate is 1 - f, not f"] = (o * np.tanh(c), c)
    c = f * c_prev + g
    out["the candidate is written in full (i = 1): multiply it by i = 1 - f"] = (o * np.tanh(c), c)
    c = (1 - f) * c_prev + f * g
    out["f and 1 - f are swapped: the old cell is kept by f, the candidate written by 1 - f"] = (
        o * np.tanh(c), c)
    c = f * c_prev + (1 - f) * g
    out["h is o * c: the output activation tanh(c) is missing"] = (o * c, c)
    return out


@self_check("your CIFG step matches lstm_lib.variants.CIFGLSTM forward and backward.")
def check_cifg(step, step_backward):
    """Exercise 1. `step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c, cache)` with gate blocks
    f, g, o; `step_backward(dh, dc, cache) -> (dx, dh_prev, dc_prev, dW_x, dW_h, db)`."""
    if not (callable(step) and callable(step_backward)):
        raise Mistake("pass both functions: check_cifg(cifg_step, cifg_step_backward)")
    args, grads = cifg_case()
    (h_ref, c_ref), ref = _reference(args, grads)
    out = _call(step, args, "cifg_step")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Mistake("cifg_step should return three things: h, c and the cache for the backward")
    h, c = expect_shape(out[0], h_ref.shape, "h"), expect_shape(out[1], c_ref.shape, "c")
    if not (np.allclose(h, h_ref, atol=1e-8) and np.allclose(c, c_ref, atol=1e-8)):
        for message, (h_bad, c_bad) in _forward_variants(args).items():
            if np.allclose(h, h_bad, atol=1e-8) and np.allclose(c, c_bad, atol=1e-8):
                raise Mistake(message)
        raise Mistake("h or c is off: z = x W_x + h_prev W_h + b has three blocks f, g, o "
                      "(in that order); c = f * c_prev + (1 - f) * g; h = o * tanh(c)")
    result = _call(step_backward, (*grads, out[2]), "cifg_step_backward")
    if not isinstance(result, (tuple, list)) or len(result) != 6:
        raise Mistake("cifg_step_backward should return six arrays: dx, dh_prev, dc_prev, dW_x, dW_h, db")
    got = [expect_shape(r, np.shape(e), n) for r, e, n in zip(result, ref, NAMES)]
    if all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, ref)):
        return
    _, uncoupled = _reference(args, grads, coupled=False)
    if all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, uncoupled)):
        raise Mistake("f's gradient misses the path through i = 1 - f: the forget gate gets "
                      "df = dc * c_prev - dc * g (the second term from i)")
    _, no_tanh = _reference(args, grads, output_activation=False)
    if all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, no_tanh)):
        raise Mistake("the path from h into c skips the derivative of tanh(c): "
                      "dc = dc_next + dh * o * (1 - tanh(c)^2)")
    plus = [2 * u - r for u, r in zip(uncoupled, ref)]  # df = dc * c_prev + dc * g
    if all(np.allclose(a, e, atol=1e-8) for a, e in zip(got, plus)):
        raise Mistake("the sign of the coupling term: i = 1 - f, so di/df = -1 and "
                      "df = dc * c_prev - dc * g, not + dc * g")
    wrong = [n for a, e, n in zip(got, ref, NAMES) if not np.allclose(a, e, atol=1e-8)]
    raise Mistake(f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} off; start with "
                  f"{wrong[0]} (dz has the blocks f, g, o; dc_prev = dc * f)")


def _call(fn, args, name):
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
        raise Mistake(f"{name} raised {type(exc).__name__}: {exc}")


# --- exercise 2: the reset task's target --------------------------------------------------------

def reset_case(seed=3, n=40, T=60):
    rng = np.random.default_rng(seed)
    values = rng.random((n, T))
    marks = (rng.random((n, T)) < 0.15).astype(float)
    return np.stack([values, marks], axis=-1)


def _running_sum(x, include_marked=True, reset=True, after=False):
    values, marks = x[..., 0], x[..., 1]
    y, total = np.empty(values.shape), np.zeros(len(x))
    for t in range(values.shape[1]):
        if after:
            total = total + values[:, t]
            y[:, t] = total
            total = total * (1 - marks[:, t])
            continue
        keep = 1 - marks[:, t] if reset else 1
        total = total * keep + (values[:, t] if include_marked else values[:, t] * keep)
        y[:, t] = total
    return y[..., None]


@self_check("your targets are the running sums since the last marker.")
def check_running_sum(fn):
    """Exercise 2. `fn(x)` with x (n, T, 2) (values, markers) -> y (n, T, 1)."""
    if not callable(fn):
        raise Mistake("pass the function itself, e.g. check_running_sum(running_sum)")
    x = reset_case()
    y = expect_array(_call(fn, (x.copy(),), "running_sum"), "y")
    if y.shape == x.shape[:2]:
        raise Mistake(f"y has shape {y.shape}; return (n, T, 1): add the last axis with y[..., None]")
    y = expect_shape(y, x.shape[:2] + (1,), "y")
    if np.allclose(y, _running_sum(x), atol=1e-9):
        return
    known = [
        (_running_sum(x, reset=False), "the sum never resets: at a marker the old sum is dropped"),
        (_running_sum(x, include_marked=False), ("a marked step starts the new sum with its own "
                                                 "value, not with 0")),
        (_running_sum(x, after=True), ("the reset comes one step late: the marked step's value "
                                       "already belongs to the new sum")),
    ]
    for bad, message in known:
        if np.allclose(y, bad, atol=1e-9):
            raise Mistake(message)
    t = int(np.argmax(np.abs(y - _running_sum(x)).max(axis=(0, 2)) > 1e-9))
    raise Mistake(f"the sums differ from step {t} on: y_t = v_t if marker_t else y_(t-1) + v_t")


# --- exercise 3: PyTorch's two biases ------------------------------------------------------------

BIAS_IH, BIAS_HH, STEPS = 0.5, 1.5, 20


@self_check("both biases add up: sigmoid(0.5 + 1.5) = 0.88 per step, 0.88^20 after 20 steps.")
def check_double_bias(fraction):
    """Exercise 3. The fraction of c_0 left after STEPS steps of zero input and i = 0 when the
    forget slice of bias_ih is BIAS_IH and that of bias_hh is BIAS_HH (weights zero)."""
    value = float(expect_array(fraction, "your answer"))
    right = float(sigmoid(np.float64(BIAS_IH + BIAS_HH))) ** STEPS
    if np.isclose(value, right, rtol=1e-3):
        return
    s = lambda z: float(sigmoid(np.float64(z)))
    known = [
        (s(BIAS_IH + BIAS_HH), f"that is one step; the cell is multiplied by f at each of the {STEPS} steps"),
        (s(BIAS_HH) ** STEPS, "bias_ih is added too: torch adds both biases before the sigmoid"),
        (s(BIAS_IH) ** STEPS, "bias_hh is added too: torch adds both biases before the sigmoid"),
        ((s(BIAS_IH) * s(BIAS_HH)) ** STEPS, "the biases add inside one sigmoid, not as two gates"),
        (s((BIAS_IH + BIAS_HH) / 2) ** STEPS, "the two biases add up; they are not averaged"),
        ((BIAS_IH + BIAS_HH) ** STEPS, "the forget gate is sigmoid(bias), not the bias itself"),
    ]
    for bad, message in known:
        if np.isclose(value, bad, rtol=1e-3):
            raise Mistake(message)
    raise Mistake(f"{value:.4g} is not it: f = sigmoid(b_ih + b_hh) at every step, and c_t = f * c_(t-1)")
