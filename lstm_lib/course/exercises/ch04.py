"""Self-checks for chapter 04, the cell-state highway."""
import numpy as np

from ...cells import lstm_step, lstm_step_backward
from ..selfcheck import (
    Mistake,
    call,
    close,
    expect_array,
    expect_close,
    expect_finite,
    expect_shape,
    self_check,
)


def lstm_network(seed=4, B=2, T=6, I=2, H=3):
    """Weights W_x (I, 4H), W_h (H, 4H), b (4H,) (forget bias about 1), inputs x (B, T, I) and a
    gradient dh_T (B, H) of norm 2.5 arriving at the last hidden state."""
    rng = np.random.default_rng(seed)
    W_x, W_h = rng.standard_normal((I, 4 * H)), rng.standard_normal((H, 4 * H))
    b = rng.standard_normal(4 * H) * 0.5 + np.repeat([0.0, 1.0, 0.0, 0.0], H)
    x, dh_T = rng.standard_normal((B, T, I)), rng.standard_normal((B, H))
    return W_x, W_h, b, x, dh_T * 2.5 / np.linalg.norm(dh_T)


def lstm_case():
    """(caches, dh_T): the caches of cells.lstm_step over lstm_network's sequence, and dh_T."""
    W_x, W_h, b, x, dh_T = lstm_network()
    h = c = np.zeros_like(dh_T)
    caches = []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step(x[:, t], h, c, W_x, W_h, b)
        caches.append(cache)
    return caches, dh_T


def walk_back(caches, dh_T, carry_h=True, carry_c=True):
    """Norms of what flows back at each step: dict of lists dh (h_T ... h_0), dc, dx."""
    dh, dc = dh_T, np.zeros_like(dh_T)
    seen = {"dh": [np.linalg.norm(dh)], "dc": [], "dx": []}
    for cache in reversed(caches):
        dx, dh_prev, dc_prev, *_ = lstm_step_backward(dh, dc, cache)
        seen["dh"].append(np.linalg.norm(dh_prev))
        seen["dc"].append(np.linalg.norm(dc_prev))
        seen["dx"].append(np.linalg.norm(dx))
        dh = dh_prev if carry_h else np.zeros_like(dh_prev)
        dc = dc_prev if carry_c else np.zeros_like(dc_prev)
    return seen


@self_check("||dL/dh_t|| for t = 0..T, with the gradient carried back through h and along the "
            "cell: chapter 01's measurement, for the LSTM")
def check_hidden_gradient_norms(hidden_gradient_norms):
    """`hidden_gradient_norms(caches, dh_T)`: caches of cells.lstm_step over T steps, dh_T the
    gradient at h_T; return the (T + 1,) array of ||dL/dh_t||, entry t for h_t."""
    caches, dh_T = lstm_case()
    T = len(caches)
    got = expect_array(call(hidden_gradient_norms, list(caches), dh_T.copy(),
                            name="hidden_gradient_norms"), "norms")
    want = np.array(walk_back(caches, dh_T)["dh"][::-1])
    if got.shape in ((T,), (T + 2,)):
        raise Mistake(f"you returned {got.size} norms; return T + 1 = {T + 1}: one for each of "
                      f"h_0, h_1, ..., h_T (entry T is ||dh_T||)")
    expect_shape(got, (T + 1,), "norms")
    expect_finite(got, "norms")
    if close(got, want):
        return
    wrong = [
        (want[::-1], ("your norms run backwards in time: entry t belongs to h_t, so the last "
                     "entry is ||dh_T|| (reverse your list before returning it)")),
        (want / np.linalg.norm(dh_T), ("you divided by ||dh_T||: return the norms themselves "
                                      "(here ||dh_T|| = 2.5)")),
        (np.array(walk_back(caches, dh_T, carry_c=False)["dh"][::-1]),
         ("you drop dc_prev: what you measured is the h path alone; pass dc_prev back to the "
         "step before, together with dh_prev")),
        (np.array(walk_back(caches, dh_T, carry_h=False)["dh"][::-1]),
         ("you do not pass dh_prev back: the gradient arriving at h_(t-1) must go into the "
         "backward step of step t-1, together with dc_prev")),
    ]
    seen = walk_back(caches, dh_T)
    for key, what in (("dc", "dc_prev"), ("dx", "dx")):
        norms = np.array(seen[key][::-1])
        wrong.append((np.concatenate([norms, [np.linalg.norm(dh_T)]]),
                      f"those are the norms of {what}; measure dh_prev, the gradient at h"))
    for value, message in wrong:
        if close(got, value):
            raise Mistake(message)
    expect_close(got, want, "norms", hint="carry both dh_prev and dc_prev back, and record "
                                          "||dh|| before the first step and after every step")


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
