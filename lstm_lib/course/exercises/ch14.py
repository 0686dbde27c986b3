"""Self-checks for chapter 14 (which parts matter: LSTM variants)."""
from dataclasses import replace

import numpy as np

from ...activations import sigmoid
from ...variants import CIFGLSTM, VariantLSTM, variant_gates_backward, variant_step
from ..selfcheck import Mistake, call, expect_array, expect_finite, expect_shape, self_check
from ..variant_study import reset_sum_stream
from . import mistakes as mistaken

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
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    return {message: mistaken.lstm_step(x, h_prev, c_prev, params, order="fgo", mistake=mistake)
            for mistake, message in (
                ("input_is_forget", "i = f: the input gate is 1 - f, not f"),
                ("no_input_gate", "the candidate is written in full (i = 1): multiply it by i = 1 - f"),
                ("coupling_swapped", ("f and 1 - f are swapped: the old cell is kept by f, the candidate "
                                      "written by 1 - f")),
                ("h_no_tanh", "h is o * c: the output activation tanh(c) is missing"))}


@self_check("your CIFG step matches lstm_lib.variants.CIFGLSTM forward and backward.")
def check_cifg(step, step_backward):
    """Exercise 1. `step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c, cache)` with gate blocks
    f, g, o; `step_backward(dh, dc, cache) -> (dx, dh_prev, dc_prev, dW_x, dW_h, db)`."""
    if not (callable(step) and callable(step_backward)):
        raise Mistake("pass both functions: check_cifg(cifg_step, cifg_step_backward)")
    args, grads = cifg_case()
    (h_ref, c_ref), ref = _reference(args, grads)
    out = call(step, *args, name="cifg_step")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Mistake("cifg_step should return three things: h, c and the cache for the backward")
    h, c = expect_shape(out[0], h_ref.shape, "h"), expect_shape(out[1], c_ref.shape, "c")
    if not (np.allclose(h, h_ref, atol=1e-8) and np.allclose(c, c_ref, atol=1e-8)):
        for message, (h_bad, c_bad) in _forward_variants(args).items():
            if np.allclose(h, h_bad, atol=1e-8) and np.allclose(c, c_bad, atol=1e-8):
                raise Mistake(message)
        raise Mistake("h or c is off: z = x W_x + h_prev W_h + b has three blocks f, g, o "
                      "(in that order); c = f * c_prev + (1 - f) * g; h = o * tanh(c)")
    result = call(step_backward, *grads, out[2], name="cifg_step_backward")
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




# --- exercise 2: a forget gate by hand ------------------------------------------------------------

HAND_TOL = 1e-4  # normalised error of c against s * y: about 1 % rms (and |s| > 1e-3)


def hand_case():
    """The streams the hand-wired cell is run on: x (8, 400, 2) float64 and y (8, 400)."""
    x, y = reset_sum_stream(8, 400, np.random.default_rng(14))
    return x.astype(np.float64), y[..., 0].astype(np.float64)


def hand_wired_run(W_x, W_h, b):
    """Run one LSTM unit with these weights over hand_case()'s streams from a zero state:
    (normalised error of c against the best s * y, s, gate traces (8, 400) by name)."""
    x, y = hand_case()
    layer = VariantLSTM(2, 1, dtype=np.float64)
    for name, value in (("W_x", W_x), ("W_h", W_h), ("b", b)):
        layer.params[name][...] = value
    with np.errstate(over="ignore", invalid="ignore"):
        layer.forward(x)
    traces = {k: v[..., 0] for k, v in layer.gate_traces().items()}  # each (8, 400)
    c = traces["c"]
    s = float((c * y).sum() / (y * y).sum())
    err = float(np.mean((c - s * y) ** 2) / (s * s * np.var(y))) if s != 0 else float("inf")
    return err, s, traces


@self_check("c_t = s * y_t to about 1 %: f stays at 1 between markers and the marker shuts it, "
            "so the cell empties and the new sum starts from the marked value.")
def check_hand_wired(W_x, W_h, b):
    """Exercise 2. One LSTM unit (blocks i, f, g, o; inputs value, marker) whose cell state
    follows the running sum with resets: c_t = s * y_t for some scale s."""
    W_x = expect_shape(W_x, (2, 4), "W_x")
    W_h = expect_shape(W_h, (1, 4), "W_h")
    b = expect_shape(b, (4,), "b")
    for arr, name in ((W_x, "W_x"), (W_h, "W_h"), (b, "b")):
        expect_finite(arr, name)
    if not (W_x.any() or W_h.any() or b.any()):
        raise Mistake("no answer yet: every weight is still 0; set the entries that matter")
    err, s, t = hand_wired_run(W_x, W_h, b)
    if err < HAND_TOL and abs(s) > 1e-3:
        return
    if np.abs(W_h[0, :3]).max() > 0:
        raise Mistake("W_h feeds h back into i, f and g: this cell needs no feedback, and h = "
                      "o * tanh(c) would bend the sum; set the first three columns of W_h to 0")
    x, _ = hand_case()
    marked = x[..., 1] == 1
    f_mark, f_else = float(t["f"][marked].mean()), float(t["f"][~marked].mean())
    if f_mark > f_else + 0.01:
        raise Mistake(f"the marker opens the forget gate (f = {f_mark:.2f} at the markers, "
                      f"{f_else:.2f} elsewhere): its weight W_x[1, 1] must be negative")
    if f_mark > f_else - 0.01:
        raise Mistake(f"the forget gate does not react to the marker (f = {f_mark:.2f} at the "
                      f"markers and {f_else:.2f} elsewhere): give the marker, row 1 of W_x, a "
                      f"large negative weight into the f column (column 1)")
    if f_else < 0.999:
        raise Mistake(f"between markers f = {f_else:.4f}, so the cell keeps only "
                      f"{f_else ** 10:.1%} of its sum after 10 steps: raise the forget bias b[1]")
    if f_mark > 1e-3:
        raise Mistake(f"at the markers f = {f_mark:.3f}, so part of the old sum survives each "
                      f"reset: make W_x[1, 1] more negative than the forget bias is positive")
    i = t["i"]
    if i.max() < 0.01:
        raise Mistake(f"the input gate is shut (i at most {i.max():.3f}): nothing is written; "
                      f"open it with a large bias b[0]")
    if i.max() - i.min() > 0.01 * i.max():
        raise Mistake(f"the input gate moves (from {i.min():.2f} to {i.max():.2f}): every value "
                      f"must be written with the same weight; keep i constant (a bias, no weights)")
    if W_x[0, 2] == 0:
        raise Mistake("the candidate does not read the value: W_x[0, 2] is 0")
    if b[2] != 0 or W_x[1, 2] != 0:
        raise Mistake("the candidate has an offset (b[2] or the marker's W_x[1, 2] is not 0): it "
                      "adds the same amount whatever the value, so c counts steps as well as values")
    z_max = float(np.abs(x @ W_x[:, 2] + b[2]).max())  # z_g (W_h plays no part by now)
    if z_max > 0.5:
        raise Mistake(f"tanh bends the candidate: z_g reaches {z_max:.2f}, where tanh(z) is "
                      f"{1 - np.tanh(z_max) / z_max:.0%} short of z, so large values count for "
                      f"less; make W_x[0, 2] smaller, so that tanh(z) is about z")
    raise Mistake(f"c does not follow the running sum: normalised error {err:.1e}, "
                  f"it should be below {HAND_TOL:g}")


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
