"""Self-checks for chapter 03, the candidate cell c~: the cell carried over time, and how far it
spreads under random writes."""
import numpy as np

from ...activations import sigmoid
from ..selfcheck import Mistake, call, close, expect_array, expect_close, expect_finite, self_check


def _gate_sequence(B=2, T=5, H=3, seed=4):
    rng = np.random.default_rng(seed)
    c0 = rng.standard_normal((B, H))
    f, i = sigmoid(rng.standard_normal((2, B, T, H)))
    g = np.tanh(rng.standard_normal((B, T, H)))
    return c0, f, i, g


def _run(c0, f, i, g, update=lambda c, f, i, g: f * c + i * g, carry=True):
    c, out = c0, []
    for t in range(f.shape[1]):
        c = update(c if carry else c0, f[:, t], i[:, t], g[:, t])
        out.append(c)
    return np.stack(out, axis=1)  # (B, T, H)


@self_check("cell_over_time carries the cell: c_t = f_t * c_(t-1) + i_t * g_t at every step")
def check_cell_over_time(cell_over_time):
    """`cell_over_time(c0, f, i, g)`: c0 (B, H); f, i, g (B, T, H) -> the cells c_1..c_T (B, T, H)."""
    c0, f, i, g = _gate_sequence()
    B, T, H = f.shape
    args = [a.copy() for a in (c0, f, i, g)]
    got = expect_array(call(cell_over_time, *args, name="cell_over_time"), "the cells")
    for name, before, after in zip(("c0", "f", "i", "g"), (c0, f, i, g), args):
        if not np.array_equal(before, after):
            raise Mistake(f"cell_over_time changed its input {name} in place: write the cells into a "
                          f"new array")
    want = _run(c0, f, i, g)
    if got.shape == (B, T + 1, H):
        if close(got[:, 1:], want):
            raise Mistake(f"shape {got.shape}: you included c0 as the first step; return the T new "
                          f"cells c_1..c_T, shape {(B, T, H)}")
        if close(got[:, :-1], np.concatenate([c0[:, None], want[:, :-1]], axis=1)):
            raise Mistake("each cell is stored before it is updated: store c after computing it")
    if got.shape == (B, H) and close(got, want[:, -1]):
        raise Mistake(f"that is only the last cell: return every step, shape {(B, T, H)}")
    if got.shape != (B, T, H):
        raise Mistake(f"the cells have shape {got.shape}, expected (B, T, H) = {(B, T, H)}: time "
                      f"is axis 1, as in f[:, t]")
    expect_finite(got, "the cells")
    if close(got, want):
        return
    if close(got, np.concatenate([c0[:, None], want[:, :-1]], axis=1)):
        raise Mistake("each cell is stored before it is updated: store c after computing it")
    wrong = [
        (_run(c0, f, i, g, carry=False), ("the cell is not carried: every step starts again from c0; "
                                         "use the cell of the previous step")),
        (_run(c0, f, i, g, lambda c, f, i, g: i * c + f * g), ("the gates are swapped: f scales the "
                                                               "old cell, i scales the candidate")),
        (_run(c0, f, i, g, lambda c, f, i, g: f * c + g), ("the candidate is added in full: multiply "
                                                           "it by the input gate, i_t * g_t")),
        (_run(c0, f, i, g, lambda c, f, i, g: c + i * g), ("the old cell is kept in full: multiply it "
                                                           "by the forget gate, f_t * c_(t-1)")),
        (_run(c0, f, i, g, lambda c, f, i, g: np.tanh(f * c + i * g)),
         ("the cell is squashed by tanh at every step: only h = o * tanh(c) squashes; the cell "
         "itself stays unbounded, which is why it can carry a value")),
    ]
    for value, message in wrong:
        if close(got, value):
            raise Mistake(message)
    expect_close(got, want, "the cells", hint="expected c_t = f[:, t] * c + i[:, t] * g[:, t], carried")


def _spread(t, f, mean_square):
    if f == 1:
        return np.sqrt(mean_square * t)
    return np.sqrt(mean_square * (1 - f ** (2 * t)) / (1 - f ** 2))


_F_IS_ONE = (": with f = 1 the formula for f < 1 divides 0 by 0; handle f = 1 on its own, where the "
             "variances of the t writes simply add up")
_SPREAD_CASES = [(1, 0.9, 0.1), (10, 0.9, 0.1), (200, 0.95, 0.1155), (50, 0.5, 2.0), (200, 1.0, 0.1155),
                 (7, 1.0, 0.3), (0, 0.9, 0.1)]


@self_check("spread(t, f, mean_square) is the std of the cell after t random writes, with and without forgetting")
def check_spread(spread):
    """`spread(t, f, mean_square)`: the std of c_t when c_0 = 0 and c_t = f c_(t-1) + w_t with
    independent writes w_t of mean 0 and mean square `mean_square`; f in (0, 1]."""
    got = []
    for t, f, ms in _SPREAD_CASES:
        try:
            with np.errstate(all="ignore"):
                value = expect_array(call(spread, t, f, ms, name="spread"), f"spread({t}, {f}, {ms})")
        except Mistake as m:
            raise Mistake(f"{m}" + (_F_IS_ONE if f == 1 else "")) from None
        if value.size != 1:
            raise Mistake(f"spread({t}, {f}, {ms}) should be one number, got shape {value.shape}")
        got.append(float(value.reshape(())))
    if not np.isfinite(got).all():
        bad = [case for case, v in zip(_SPREAD_CASES, got) if not np.isfinite(v)]
        raise Mistake(f"spread{bad[0]} is not finite" + _F_IS_ONE)
    got = np.array(got)
    want = np.array([_spread(*case) for case in _SPREAD_CASES])
    if np.allclose(got, want, rtol=1e-6):
        return
    variance = want ** 2
    if np.allclose(got, variance, rtol=1e-6):
        raise Mistake("those are variances: the spread is the standard deviation, their square root")
    powers_of_f = np.array([np.sqrt(ms * (t if f == 1 else (1 - f ** t) / (1 - f)))
                            for t, f, ms in _SPREAD_CASES])
    if np.allclose(got, powers_of_f, rtol=1e-6):
        raise Mistake("a write k steps old has been multiplied by f k times, so its variance by "
                      "f**(2k), not f**k: sum the powers of f**2")
    limit = np.array([np.sqrt(ms * t) if f == 1 else np.sqrt(ms / (1 - f ** 2)) for t, f, ms in _SPREAD_CASES])
    if np.allclose(got, limit, rtol=1e-6):
        raise Mistake("that is the limit for t -> infinity: after t steps only t writes have been "
                      "added, so the sum of f**(2k) stops at k = t - 1")
    no_root_ms = np.array([_spread(t, f, 1.0) * ms for t, f, ms in _SPREAD_CASES])
    if np.allclose(got, no_root_ms, rtol=1e-6):
        raise Mistake("the mean square of a write is a variance: take its square root too, "
                      "sqrt(mean_square * ...)")
    k = int(np.argmax(np.abs(got - want) / want.clip(1e-12)))
    raise Mistake(f"spread{_SPREAD_CASES[k]} = {got[k]:.4g}, expected {want[k]:.4g}: the variance of "
                  f"c_t is mean_square * (1 + f**2 + f**4 + ... + f**(2(t-1)))")
