"""Self-checks for chapter 15 (gated linear recurrences, the parallel scan, what they give up)."""
import numpy as np

from ...scan import scan_loop
from ..selfcheck import Mistake, expect_array, self_check


def _log_pairs(rng, n=3, shape=(6,)):
    """(log a, log b) pairs; some entries far outside what exp can represent."""
    pairs = []
    for _ in range(n):
        la, lb = -rng.uniform(0.01, 3, shape), rng.normal(0, 2, shape)
        la[0], lb[1] = -900.0, 800.0  # exp(-900) underflows to 0, exp(800) overflows
        pairs.append((la, lb))
    return pairs


def _call_combine(combine, left, right):
    given = [np.array(v, copy=True) for v in (*left, *right)]
    with np.errstate(all="ignore"):  # a learner's exp(800) must reach the checks below, not raise
        out = combine((given[0], given[1]), (given[2], given[3]))
    if not all(np.array_equal(g, v, equal_nan=True) for g, v in zip(given, (*left, *right))):
        raise Mistake("log_combine changed its input arrays in place (e.g. with +=); return new "
                      "arrays: the scan still needs the old ones")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Mistake(f"log_combine should return a pair (log a, log b), got {type(out).__name__}")
    a, b = (expect_array(v, name) for v, name in zip(out, ("log a", "log b")))
    if a.shape != left[0].shape or b.shape != left[1].shape:
        raise Mistake(f"log_combine returned shapes {a.shape} and {b.shape}; expected {left[0].shape} "
                      f"for both (everything is elementwise)")
    return a, b


def _hillis_steele_with(combine, la, lb):
    """The Hillis-Steele scan of chapter 15 with the learner's combine, on log pairs."""
    A, B = la.copy(), lb.copy()
    d = 1
    while d < len(A):
        A[d:], B[d:] = _call_combine(combine, (A[:-d], B[:-d]), (A[d:], B[d:]))
        d *= 2
    return B


@self_check("your log-space combine composes the steps in the right order, stays in log space "
            "(no overflow at exp(800)), is associative, and drives the parallel scan to the loop's result.")
def check_log_combine(log_combine):
    """Exercise 3 (Going deeper, A): log_combine((la1, lb1), (la2, lb2)) -> (la, lb), the pair
    (log a, log b) of the step 'first (a1, b1), then (a2, b2)', for positive a and b, computed
    in logs."""
    if not callable(log_combine):
        raise Mistake("pass the function itself, e.g. check_log_combine(log_combine)")
    rng = np.random.default_rng(0)
    (la1, lb1), (la2, lb2), third = _log_pairs(rng)
    la, lb = _call_combine(log_combine, (la1, lb1), (la2, lb2))
    ok = slice(2, None)  # entries that exp can represent
    if not np.allclose(la, la1 + la2):
        if np.allclose(la[ok], (la1 + la2)[ok]):
            raise Mistake("log a is wrong where exp(-900) underflows to 0: you left log space; "
                          "log(a1 a2) = la1 + la2 needs no exp")
        if np.allclose(la[ok], (la1 * la2)[ok]):
            raise Mistake("in log space products become sums: log(a1 a2) = log a1 + log a2, "
                          "not log a1 * log a2")
        raise Mistake("the composite multiplier is a1 a2, so its log is la1 + la2")
    right = np.logaddexp(la2 + lb1, lb2)
    if np.allclose(lb[ok], right[ok]) and not np.isfinite(lb).all():
        raise Mistake("log b is inf or NaN where exp(800) overflows: you left log space; "
                      "np.logaddexp(x, y) = log(e^x + e^y) never forms e^x")
    if np.allclose(lb, right):
        pass
    elif np.allclose(lb[ok], np.logaddexp(la1 + lb2, lb1)[ok]):
        raise Mistake("that is step 2 first, then step 1: the left pair acts first, so its "
                      "offset b1 is scaled by the later a2: b = a2 b1 + b2")
    elif np.allclose(lb[ok], (la2 + lb1 + lb2)[ok]) or np.allclose(lb[ok], (lb1 + lb2)[ok]):
        raise Mistake("log(x + y) is not log x + log y: the offsets add in linear space, "
                      "so in logs use np.logaddexp(la2 + lb1, lb2)")
    elif np.allclose(lb[ok], np.logaddexp(la1 + lb1, lb2)[ok]):
        raise Mistake("b1 must be scaled by the second step's a2 (a2 (a1 h + b1) + b2), not by a1")
    else:
        raise Mistake("log b should be log(a2 b1 + b2) = np.logaddexp(la2 + lb1, lb2)")
    lhs = _call_combine(log_combine, _call_combine(log_combine, (la1, lb1), (la2, lb2)), third)
    rhs = _call_combine(log_combine, (la1, lb1), _call_combine(log_combine, (la2, lb2), third))
    if not (np.allclose(lhs[0], rhs[0]) and np.allclose(lhs[1], rhs[1])):
        raise Mistake("(x o y) o z and x o (y o z) differ: the combine must be associative, "
                      "or the scan's grouping changes the answer")
    T = 37
    la_seq, lb_seq = np.log(rng.uniform(0.1, 1, (T, 4))), rng.normal(0, 1, (T, 4))
    expected = np.log(scan_loop(np.exp(la_seq), np.exp(lb_seq))[0])
    if not np.allclose(_hillis_steele_with(log_combine, la_seq, lb_seq), expected):
        raise Mistake("in the Hillis-Steele scan your combine does not reproduce the loop")


def _backward_loop(a, dh, coef_at, direction=-1, direct=True):
    """g by a loop: g_t = (dh_t, or only the first step's) + coef_at(t) * (the previous g),
    walking backwards (direction -1) or forwards in time. The right answer and its slips."""
    T = len(dh)
    out, acc = np.zeros_like(dh), np.zeros(dh.shape[1:])
    first = T - 1 if direction < 0 else 0
    for t in (range(T - 1, -1, -1) if direction < 0 else range(T)):
        acc = (dh[t] if direct or t == first else 0) + coef_at(t) * acc
        out[t] = acc
    return out


@self_check("your backward pass of the recurrence gives the total gradient at every h_t (a reverse "
            "scan) and from it dL/da, dL/db and dL/dh0, as the layer's backward needs.")
def check_recurrence_backward(recurrence_backward):
    """Exercise 1: recurrence_backward(a, h, h0, dh) -> (da, db, dh0) for h_t = a_t h_{t-1} + b_t,
    where a, h, dh are (T, ...) arrays (h the forward outputs, dh = dL/dh_t from the layer
    above) and h0 (...) the initial state."""
    if not callable(recurrence_backward):
        raise Mistake("pass the function itself, e.g. check_recurrence_backward(recurrence_backward)")
    rng = np.random.default_rng(1)
    T = 23
    a = rng.uniform(0.2, 0.95, (T, 3))
    h0 = rng.standard_normal(3)
    h, _ = scan_loop(a, rng.standard_normal((T, 3)), h0)
    dh = rng.standard_normal((T, 3))
    given = [v.copy() for v in (a, h, h0, dh)]
    out = recurrence_backward(*given)
    if not all(np.array_equal(g, v) for g, v in zip(given, (a, h, h0, dh))):
        raise Mistake("your function changed a, h, h0 or dh in place; work on copies")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Mistake("return three things: da, db (one per step, like dh) and dh0 (like h0)")
    da, db, dh0 = (expect_array(v, name) for v, name in zip(out, ("da", "db", "dh0")))
    if da.shape != dh.shape or db.shape != dh.shape or dh0.shape != h0.shape:
        raise Mistake(f"da, db have shapes {da.shape}, {db.shape} and dh0 {dh0.shape}; expected "
                      f"{dh.shape} (one gradient per step) and {h0.shape}")
    g = _backward_loop(a, dh, lambda t: a[t + 1] if t + 1 < T else 0.0)  # the total gradient at h_t
    h_prev = np.concatenate([h0[None], h[:-1]])  # h_{t-1} at every step
    # db_t = g_t: the total gradient shows first in db
    if not np.allclose(db, g):
        if np.allclose(db, dh):
            raise Mistake("db is just dh: the gradient also flows back from h_{t+1}, times "
                          "a_{t+1}; g_t = dh_t + a_{t+1} g_{t+1} is a reverse scan")
        if np.allclose(db, _backward_loop(a, dh, lambda t: a[t])):
            raise Mistake("off by one: h_{t+1} = a_{t+1} h_t + b_{t+1}, so the gradient from "
                          "h_{t+1} reaches h_t times a_{t+1}, not a_t")
        if np.allclose(db, _backward_loop(a, dh, lambda t: a[t] if t > 0 else 0.0, direction=1)):
            raise Mistake("this runs forward in time; the gradient flows from the last step back "
                          "to the first (reverse the arrays, scan, reverse back)")
        if np.allclose(db, _backward_loop(a, dh, lambda t: a[t + 1] if t + 1 < T else 0.0,
                                          direct=False)):
            raise Mistake("each g_t needs its own direct gradient dh_t added, not only the last one")
        raise Mistake("db_t should be the total gradient g_t = dh_t + a_{t+1} g_{t+1}, from "
                      "t = T-1 down to 0 with g_{T-1} = dh_{T-1}")
    if not np.allclose(da, g * h_prev):
        if np.allclose(da, g * h):
            raise Mistake("da_t = g_t h_{t-1}: a_t multiplies the state before the step, "
                          "h_{t-1} (h0 at the first step), not h_t")
        if np.allclose(da, dh * h_prev):
            raise Mistake("da_t needs the total gradient g_t, not only the direct dh_t")
        raise Mistake("da_t should be g_t h_{t-1}, with h_{-1} = h0 at the first step")
    if not np.allclose(dh0, a[0] * g[0]):
        if np.allclose(dh0, g[0]):
            raise Mistake("h0 reaches the loss through h_1 = a_1 h0 + b_1: dh0 = a_1 g_1, not g_1")
        raise Mistake("dh0 should be a_1 g_1 (a[0] * g[0] in Python's numbering)")


@self_check("a negative multiplier flips the sign at every 1: a linear recurrence can track "
            "parity once a_t may be -1.")
def check_parity_coefficients(parity_coefficients):
    """Exercise 2: parity_coefficients(bits) -> (a, b, h0) with bits (T,) of 0/1, a and b
    (T,), h0 a number, such that h_t = a_t h_{t-1} + b_t equals +1 when bits[:t+1] holds an
    even number of ones and -1 when odd. a_t and b_t may depend on bits[t] only."""
    if not callable(parity_coefficients):
        raise Mistake("pass the function itself, e.g. check_parity_coefficients(parity_coefficients)")
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2, 500)
    out = parity_coefficients(bits.copy())
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Mistake("return three things: a, b (arrays of the bits' length) and h0")
    a, b, h0 = expect_array(out[0], "a"), expect_array(out[1], "b"), expect_array(out[2], "h0")
    if a.shape != bits.shape or b.shape != bits.shape:
        raise Mistake(f"a and b should have the shape of bits, {bits.shape}; got {a.shape}, {b.shape}")
    for name, v in (("a", a), ("b", b)):
        for bit in (0, 1):
            if np.ptp(v[bits == bit]) > 1e-12:
                raise Mistake(f"{name}_t takes different values for the same bit {bit}: it may "
                              f"depend only on x_t, not on earlier bits (that is what keeps the "
                              f"recurrence linear and parallel)")
    target = np.where(np.cumsum(bits) % 2 == 0, 1.0, -1.0)
    h, _ = scan_loop(a, b, np.asarray(h0, float).reshape(()))
    if np.allclose(h, target):
        return
    if (a >= 0).all() and (a <= 1).all():
        raise Mistake("all your a_t lie in [0, 1], the range of a sigmoid gate: then h never "
                      "changes sign on its own and cannot flip at every 1. Try a_t = -1 on a 1")
    if np.allclose(h, -target):
        raise Mistake("the sign is the wrong way round: start from h0 = +1 (zero ones so far is even)")
    if float(h0) == 0:
        raise Mistake("with h0 = 0 and no offset the state stays 0; start from h0 = 1")
    if not np.allclose(b, 0):
        raise Mistake("the offsets b_t make h drift away from +-1; with the right a_t, b_t = 0")
    raise Mistake("h_t should be +1 after an even number of ones and -1 after an odd number: "
                  "keep h on a 0 (a = 1) and flip it on a 1")
