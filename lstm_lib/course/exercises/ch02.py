"""Self-checks for chapter 02, gates."""
import warnings

import numpy as np

from ...activations import sigmoid
from ..selfcheck import Mistake, expect_array, expect_close, expect_finite, self_check
from .ch01 import call, close


@self_check("gate(z) is the sigmoid: values in (0, 1), rising with z, no overflow")
def check_gate(gate):
    """`gate(z)` returns sigmoid(z) elementwise for an array z of any shape."""
    z = np.array([[-3.0, -1.0, 0.0], [0.5, 2.0, 4.0]])
    want = sigmoid(z)
    got = expect_array(call(gate, z, name="gate"), "gate(z)")
    if got.shape != z.shape:
        raise Mistake(f"gate(z) has shape {got.shape}, expected {z.shape}: apply the function "
                      f"elementwise, without summing or averaging")
    expect_finite(got, "gate(z)")
    if close(got, np.tanh(z)):
        raise Mistake("values outside (0, 1): that is tanh, whose range is (-1, 1); a gate "
                      "uses the sigmoid 1 / (1 + exp(-z))")
    if close(got, z):
        raise Mistake("values outside (0, 1): did you apply the sigmoid? gate(z) returned z")
    if close(got, 1 - want):
        raise Mistake("your gate closes as z grows: use exp(-z), not exp(z), in 1 / (1 + exp(-z))")
    if got.min() < 0 or got.max() > 1:
        raise Mistake(f"values outside (0, 1) (from {got.min():.3g} to {got.max():.3g}): "
                      f"did you apply the sigmoid?")
    expect_close(got, want, "gate(z)", hint="expected 1 / (1 + exp(-z))")
    big = np.array([-1000.0, -40.0, 40.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got_big = expect_array(call(gate, big, name="gate"), "gate(z)")
    if not np.isfinite(got_big).all():
        raise Mistake("gate(z) gives NaN or inf for z = +-1000: exp overflows. For z < 0 compute "
                      "exp(z) / (1 + exp(z)) instead, or np.exp(-np.logaddexp(0, -z))")
    if not np.allclose(got_big, [0.0, 0.0, 1.0, 1.0], atol=1e-12):
        raise Mistake(f"gate(z) for z = -1000, -40, 40, 1000 gives {np.round(got_big, 4)}, "
                      f"expected about 0, 0, 1, 1")


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
