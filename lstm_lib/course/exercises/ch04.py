"""Self-checks for chapter 04, the cell-state highway: the backward walk with cuts, and the
share of the gradient that the mixed routes carry."""
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
    """(caches, dh_T, dc_T): the caches of cells.lstm_step over lstm_network's sequence, the
    gradient at h_T and a gradient at c_T (so that a cut of either way shows)."""
    W_x, W_h, b, x, dh_T = lstm_network()
    h = c = np.zeros_like(dh_T)
    caches = []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step(x[:, t], h, c, W_x, W_h, b)
        caches.append(cache)
    dc_T = np.random.default_rng(9).standard_normal(dh_T.shape)
    return caches, dh_T, dc_T


def walk(caches, dh, dc, through_h=True, through_c=True, slip=None):
    """The reference backward walk (slip=None), or one of the typical slips, for the checker and
    the tests: "reversed", "cuts_swapped", "cut_at_start", "no_carry", "state_swapped"."""
    dx = []
    if slip == "cut_at_start":  # the cut also drops the gradient arriving at h_T / c_T
        dh = dh if through_h else np.zeros_like(dh)
        dc = dc if through_c else np.zeros_like(dc)
    dh_T, dc_T = dh, dc
    if slip == "cuts_swapped":
        through_h, through_c = through_c, through_h
    for cache in reversed(caches):
        dx_t, dh_prev, dc_prev, *_ = lstm_step_backward(dh, dc, cache)
        dx.append(dx_t)
        if slip == "no_carry":  # every step gets the gradient of the last one
            dh, dc = dh_T, dc_T
            continue
        dh = dh_prev if through_h else np.zeros_like(dh_prev)
        dc = dc_prev if through_c else np.zeros_like(dc_prev)
    dx = np.stack(dx if slip == "reversed" else dx[::-1], axis=1)
    return dx, ((dc, dh) if slip == "state_swapped" else (dh, dc))


CUTS = ((True, True), (False, True), (True, False))


def _unpack(result, what):
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple | list)
            and len(result[1]) == 2):
        raise Mistake(f"{what} returned {type(result).__name__}; return dx, (dh_0, dc_0): the gradients "
                      f"at the inputs (B, T, I), and the two gradients at the initial state")
    return result[0], result[1]


@self_check("your backward walks back through every step and cuts exactly the way it is told to")
def check_backward(backward):
    """`backward(caches, dh, dc, through_h=True, through_c=True)` returns dx (B, T, I) and
    (dh_0, dc_0); through_h=False drops dh_prev after every step, through_c=False dc_prev."""
    caches, dh_T, dc_T = lstm_case()
    B, _H = dh_T.shape
    T, I = len(caches), caches[0].x.shape[1]
    for through_h, through_c in CUTS:
        what = f"backward(caches, dh, dc, through_h={through_h}, through_c={through_c})"
        got = call(lambda *args, h=through_h, c=through_c: backward(*args, through_h=h, through_c=c),
                   list(caches), dh_T.copy(), dc_T.copy(), name="backward")
        dx, state = _unpack(got, what)
        dx = expect_array(dx, "dx")
        if dx.shape == (T, B, I):
            raise Mistake(f"dx has shape {dx.shape}, time first; stack along axis 1 for (B, T, I) = {(B, T, I)}")
        expect_shape(dx, (B, T, I), "dx")
        expect_finite(dx, "dx")
        dh0, dc0 = (expect_array(s, n) for s, n in zip(state, ("dh_0", "dc_0")))
        want_dx, (want_dh0, want_dc0) = walk(caches, dh_T, dc_T, through_h, through_c)
        if close(dx, want_dx) and close(dh0, want_dh0) and close(dc0, want_dc0):
            continue
        for slip, message in (
            ("reversed", ("your dx runs backwards in time: the walk meets step T first, so reverse the "
                         "list before stacking (dx[:, t] belongs to x_t)")),
            ("cuts_swapped", ("your cuts are swapped: through_h=False must drop dh_prev (the way back "
                             "through h), through_c=False dc_prev (the highway)")),
            ("cut_at_start", ("you cut the gradient arriving at the last step as well: a cut drops only "
                             "what one step hands back to the step before (dh_prev or dc_prev)")),
            ("no_carry", ("every step gets the gradient that arrived at the last step: after each "
                         "step, carry its dh_prev and dc_prev back to the step before")),
            ("state_swapped", "you return (dc_0, dh_0); return (dh_0, dc_0), in that order"),
        ):
            slip_dx, (slip_dh0, slip_dc0) = walk(caches, dh_T, dc_T, through_h, through_c, slip=slip)
            if close(dx, slip_dx) and close(dh0, slip_dh0) and close(dc0, slip_dc0):
                raise Mistake(message + f" (seen with through_h={through_h}, through_c={through_c})")
        expect_close(dx, want_dx, f"dx of {what}",
                     hint="call L.cells.lstm_step_backward(dh, dc, cache) once per step, last step first")
        expect_close(dh0, want_dh0, f"dh_0 of {what}", hint="dh_0 is the dh_prev of the first step")
        expect_close(dc0, want_dc0, f"dc_0 of {what}", hint="dc_0 is the dc_prev of the first step")


def share(caches, dh_T, slip=None):
    """The reference mixed share at x_1 (slip=None) or a typical slip: "no_h_path",
    "pure_share", "last_step", "upside_down", "norms_subtracted"."""
    zero = np.zeros_like(dh_T)
    dx = {"both": walk(caches, dh_T, zero)[0], "highway": walk(caches, dh_T, zero, through_h=False)[0],
          "h": walk(caches, dh_T, zero, through_c=False)[0]}
    step = -1 if slip == "last_step" else 0
    both, hw, hp = (dx[k][:, step] for k in ("both", "highway", "h"))
    norm = np.linalg.norm
    if slip == "norms_subtracted":
        return (norm(both) - norm(hw) - norm(hp)) / norm(both)
    mixed = {"no_h_path": both - hw, "pure_share": hw + hp}.get(slip, both - hw - hp)
    return norm(both) / norm(mixed) if slip == "upside_down" else norm(mixed) / norm(both)


@self_check("the mixed routes' share of the gradient at the first input, computed from three backward "
            "passes")
def check_mixed_share(mixed_share):
    """`mixed_share(caches, dh_T)`: with a loss on h_T (gradient dh_T, none on c_T), the norm of
    the mixed routes' part of dL/dx_1 over the norm of dL/dx_1, norms over the whole batch."""
    caches, dh_T, _ = lstm_case()
    got = expect_array(call(mixed_share, list(caches), dh_T.copy(), name="mixed_share"), "mixed_share")
    if got.size != 1:
        raise Mistake(f"mixed_share returned shape {got.shape}; return one number: the norm over the "
                      f"whole batch of the mixed part of dx[:, 0], over the norm of dx[:, 0]")
    got = float(got.reshape(()))
    want = share(caches, dh_T)
    if np.isclose(got, want, rtol=1e-6):
        return
    for slip, message in (
        ("no_h_path", "you subtracted the highway but not the h path: mixed = both - highway - h"),
        ("pure_share", ("that is the share of the two pure routes (highway + h path); the mixed ones "
                       "are what is left of the true gradient: both - highway - h")),
        ("last_step", ("you measured at the last step, where nothing has been cut yet and every route "
                      "is pure; take the first input, dx[:, 0]")),
        ("upside_down", "your share is upside down: divide the mixed part's norm by the true gradient's"),
        ("norms_subtracted", ("you subtracted norms; subtract the gradients first (the backward pass is "
                             "linear in the gradients, not in their sizes), then take one norm")),
    ):
        if np.isclose(got, share(caches, dh_T, slip=slip), rtol=1e-6):
            raise Mistake(message)
    raise Mistake(f"mixed_share = {got:.4g}, expected {want:.4g}: run three backward passes from dh_T "
                  f"(dc zeros): both ways open, through_h=False, through_c=False")
