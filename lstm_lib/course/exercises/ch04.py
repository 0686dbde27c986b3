"""Self-checks for chapter 04, the cell-state highway."""
import numpy as np

from ..selfcheck import Mistake, expect_array, expect_close, expect_finite, self_check
from .ch01 import call, close


@self_check("dL/dc_0 = dL/dc_T times the product of the forget gates over time, unit by unit")
def check_cell_path_gradient(cell_path_gradient):
    """`cell_path_gradient(f, dc_T)`: f has shape (T, H) (forget gates of one sequence, step by
    step), dc_T shape (H,); return dL/dc_0 along the cell path only, shape (H,)."""
    rng = np.random.default_rng(5)
    T, H = 6, 3
    f = rng.uniform(0.5, 0.99, size=(T, H))
    dc_T = rng.standard_normal(H)
    want = dc_T * np.prod(f, axis=0)
    got = expect_array(call(cell_path_gradient, f, dc_T, name="cell_path_gradient"), "dc_0")
    if got.shape == (T, H):
        raise Mistake(f"dc_0 has shape {(T, H)}, one row per step: return only the gradient "
                      f"that reaches c_0, shape {(H,)} (the product over all T steps)")
    if got.shape == (T,):
        raise Mistake(f"dc_0 has shape {(T,)}: you multiplied across the units; multiply over "
                      f"time instead (axis=0), each unit has its own highway")
    if got.shape != (H,):
        raise Mistake(f"dc_0 has shape {got.shape}, expected {(H,)}")
    expect_finite(got, "dc_0")
    if close(got, want):
        return
    wrong = [
        (dc_T * f.sum(axis=0), "you summed the forget gates: the chain rule multiplies, one factor f_t per step"),
        (dc_T * np.prod(1 - f, axis=0), "1 - f is what the gate forgets; the gradient is carried by f itself"),
        (np.prod(f, axis=0), "dL/dc_T is missing: the product of gates multiplies the gradient that arrives"),
        (dc_T * f[-1] ** T, "you used the last gate T times: each step has its own gate f_t, multiply them all"),
        (dc_T * np.prod(f[:-1], axis=0), "one gate short: the gradient passes all T gates f_1..f_T"),
        (dc_T * np.prod(f[1:], axis=0), "one gate short: the gradient passes all T gates f_1..f_T"),
        (dc_T * np.prod(f * (1 - f), axis=0), ("f * (1 - f) is the sigmoid's derivative, needed for the "
                                              "gate's own weights; along the cell path dc_{t-1} = dc_t * f_t")),
    ]
    for value, message in wrong:
        if close(got, value):
            raise Mistake(message)
    expect_close(got, want, "dc_0", hint="expected dc_T * np.prod(f, axis=0)")


@self_check("the cell-path gradient f**k first falls below the threshold after that many steps")
def check_survival_steps(survival_steps):
    """`survival_steps(f, threshold)` returns the smallest whole number of steps k with
    f**k < threshold, for a constant forget gate 0 < f < 1."""
    cases = [(0.5, 1e-3), (0.731, 1e-7), (0.95, 0.01), (0.999, 1e-7)]
    for f, thr in cases:
        want = int(np.floor(np.log(thr) / np.log(f))) + 1
        got = call(survival_steps, f, thr, name="survival_steps")
        arr = expect_array(got, f"survival_steps({f}, {thr})")
        if arr.size != 1:
            raise Mistake(f"survival_steps({f}, {thr}) should be one number, got shape {arr.shape}")
        k = float(arr.reshape(()))
        if not np.isfinite(k):
            raise Mistake(f"survival_steps({f}, {thr}) = {k}: check the logarithms (0 < f < 1)")
        if k != round(k):
            raise Mistake(f"survival_steps({f}, {thr}) = {k:.3f} is not a whole number of steps: "
                          f"round up to the first step where f**k is below the threshold")
        k = round(k)
        if k == want:
            continue
        if k == want - 1:
            raise Mistake(f"survival_steps({f}, {thr}) = {k}, one step early: {f}**{k} = "
                          f"{f ** k:.3g} is not yet below {thr}")
        if k < 0:
            raise Mistake(f"survival_steps({f}, {thr}) = {k} is negative: log(f) and log(threshold) "
                          f"are both negative, their ratio is positive")
        raise Mistake(f"survival_steps({f}, {thr}) = {k}, expected {want} "
                      f"({f}**{want} = {f ** want:.3g} < {thr})")
