"""Self-checks for chapter 02, gates."""
import itertools

import numpy as np

from ...activations import sigmoid
from ..selfcheck import Mistake, call, close, expect_array, expect_close, expect_finite, self_check
from . import mistakes as mistaken


def _kept(bias, steps):
    return float(sigmoid(np.float64(bias))) ** steps


@self_check("with this forget bias the cell keeps at least 90% of its value for 20 steps")
def check_forget_bias(forget_bias, steps=20, keep=0.9):
    """`forget_bias` is one number, the forget gate's bias, with no input (f = sigmoid(bias)):
    after `steps` steps at least `keep` of the cell must be left, and the gate must not be so
    saturated that its gradient sigmoid'(bias) is negligible (bias <= 12)."""
    b = expect_array(forget_bias, "forget_bias")
    if b.size != 1:
        raise Mistake(f"forget_bias should be one number, got an array of shape {b.shape}")
    b = float(b.reshape(()))
    if not np.isfinite(b):
        raise Mistake("forget_bias must be a finite number")
    need = float(np.log(keep ** (1 / steps) / (1 - keep ** (1 / steps))))  # sigmoid^-1(keep^(1/steps))
    f = float(sigmoid(np.float64(b)))
    if b < need:
        hint = ""
        if 0 < b < 1:
            hint = (" (it looks like a gate value: the bias is the pre-activation z, and "
                    f"the gate is f = sigmoid(z) = {f:.3f})")
        raise Mistake(f"with forget bias {b:g} the gate is f = {f:.4f} and keeps f**{steps} = "
                      f"{_kept(b, steps):.3g} of the cell after {steps} steps{hint}: f must be "
                      f"at least {keep ** (1 / steps):.4f}, i.e. the bias at least {need:.2f}")
    if b > 12:
        raise Mistake(f"forget bias {b:g} keeps the value, but the gate is so saturated that its "
                      f"gradient sigmoid'(z) = {f * (1 - f):.1e} is next to nothing: it could never "
                      f"learn to forget. Pick a bias between {need:.2f} and 12")


# --- exercise: the LSTM step forward ---------------------------------------------------------

_GATE_NAMES = ("input gate i", "forget gate f", "candidate g", "output gate o")


def _step_case():
    rng = np.random.default_rng(20)
    B, I, H = 2, 3, 4
    x, h_prev, c_prev = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    W_x, W_h, b = rng.standard_normal((I, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    return x, h_prev, c_prev, W_x, W_h, b


def _step_mistakes(x, h_prev, c_prev, W_x, W_h, b):
    """(h, c) of typical wrong steps, each with the message that names the mistake."""
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    for mistake, message in (
            ("h_no_tanh", "h = o * c: the output squashes the cell first, h = o * tanh(c)"),
            ("h_tanh_outside", "h = tanh(o * c): the tanh goes on the cell only, h = o * tanh(c)"),
            ("h_old_cell", "h uses the old cell c_prev: use the new one, h = o * tanh(c)"),
            ("no_input_gate", "the candidate is added in full: multiply it by the input gate, i * g"),
            ("no_forget_gate", "the old cell is kept in full: multiply it by the forget gate, f * c_prev"),
            ("candidate_sigmoid", "the candidate g went through the sigmoid: it uses tanh, so it can be negative"),
            ("gates_tanh", "the gates went through tanh: i, f and o use the sigmoid"),
            ("no_h", "the previous output is missing: z = x @ W_x + h_prev @ W_h + b"),
            ("no_bias", "the bias b is missing: z = x @ W_x + h_prev @ W_h + b")):
        yield mistaken.lstm_step(x, h_prev, c_prev, params, mistake=mistake), message


@self_check("your step gives the same h and c as L.cells.lstm_step: gates i, f, g, o from one product")
def check_lstm_step(lstm_step):
    """`lstm_step(x, h_prev, c_prev, W_x, W_h, b)` returns (h, c), each (B, H), with fused weights
    in PyTorch's gate order i, f, g, o."""
    from ... import cells

    case = _step_case()
    x, h_prev, c_prev, W_x, W_h, b = case
    B, H = h_prev.shape
    want_h, want_c, _ = cells.lstm_step(*case)
    got = call(lstm_step, *[a.copy() for a in case], name="lstm_step")
    if not isinstance(got, tuple) or len(got) != 2:
        kind = f"a tuple of {len(got)}" if isinstance(got, tuple) else type(got).__name__
        raise Mistake(f"lstm_step should return two arrays, h and c (return h, c), got {kind}")
    h, c = (expect_array(v, name) for v, name in zip(got, ("h", "c")))
    for value, name in ((h, "h"), (c, "c")):
        if value.shape == (B, 4 * H):
            raise Mistake(f"{name} has shape {value.shape}, the shape of all four pre-activations: "
                          f"cut z into four blocks of H = {H} columns")
        if value.shape != (B, H):
            raise Mistake(f"{name} has shape {value.shape}, expected (B, H) = {(B, H)}")
        expect_finite(value, name)
    if close(h, want_c) and close(c, want_h):
        raise Mistake("h and c are swapped: return h, c (the output first, as L.cells.lstm_step)")
    if close(h, want_h) and close(c, want_c):
        return
    z = x @ W_x + h_prev @ W_h + b
    for order in itertools.permutations(range(4)):
        read = "".join("ifgo"[order.index(k)] for k in range(4))  # the gate read from block k
        if order != (0, 1, 2, 3) and close(c, mistaken.step_from_z(z, c_prev, order=read)[1]):
            wrong = [f"the {_GATE_NAMES[g]} from block {k}" for g, k in enumerate(order) if g != k]
            raise Mistake("the blocks are in the wrong order: you took " + ", ".join(wrong)
                          + ". PyTorch's order is i, f, g, o: block k is columns k*H:(k+1)*H")
    for (bad_h, bad_c), message in _step_mistakes(*case):
        if close(h, bad_h) and close(c, bad_c):
            raise Mistake(message)
    expect_close(c, want_c, "c", hint="expected c = f * c_prev + i * g")
    expect_close(h, want_h, "h", hint="expected h = o * tanh(c)")
