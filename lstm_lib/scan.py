"""The linear recurrence h_t = a_t * h_{t-1} + b_t, computed four ways.

Every gated linear recurrence (minGRU, minLSTM, the mLSTM's memory, Mamba's state) is this
recurrence with coefficients a_t, b_t that depend on the input only, never on h. Because the
step h -> a*h + b is an affine map, and affine maps compose associatively,

    (a1, b1) o (a2, b2) = (a1 * a2, a2 * b1 + b2)      "first apply 1, then 2",

the whole sequence can be computed as a *scan* (prefix composition) whose levels each do one
vectorised operation over all time steps, instead of one Python step per time step.

Arrays are time-major: a, b have shape (T, ...) and the recurrence runs along axis 0; the
other axes (batch, hidden) are independent lanes. Each method returns (h, steps), `steps`
being the number of Python-level iterations it made:

    scan_loop              T steps           T combines of work    the definition
    scan_hillis_steele     ceil(log2 T)      ~T log2 T             Hillis & Steele (1986)
    scan_blelloch          ~2 ceil(log2 T)   ~2T                   work-efficient (Blelloch 1990)
    scan_log               2 whole-sequence calls (cumsum, logaddexp.accumulate); needs
                           b > 0; as Feng et al. (2024) compute minGRU/minLSTM in log space

`reverse_scan` runs the same recurrence backwards in time: the backward pass of every layer
built on it (g_t = dh_t + a_{t+1} g_{t+1}).
"""
import numpy as np


def combine(left, right):
    """Compose two affine steps: first `left` = (a1, b1), then `right` = (a2, b2)."""
    (a1, b1), (a2, b2) = left, right
    return a1 * a2, a2 * b1 + b2


def _with_initial_state(a, b, h0):
    """b with the initial state folded into the first step: b_0 + a_0 * h0 (a fresh array)."""
    a, b = np.asarray(a), np.array(b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (time, ...), got {a.shape} and {b.shape}")
    if a.ndim < 1 or len(a) < 1:
        raise ValueError(f"a and b need at least one time step on axis 0, got shape {a.shape}")
    if h0 is not None:
        h0 = np.asarray(h0)
        if h0.shape != a.shape[1:]:
            raise ValueError(f"h0 must have shape {a.shape[1:]} (one time step), got {h0.shape}")
        b[0] += a[0] * h0
    return a, b


def scan_loop(a, b, h0=None):
    """The recurrence as written: one step per time step. Returns (h (T, ...), T)."""
    a, b = _with_initial_state(a, b, h0)
    h = np.empty_like(b)
    prev = np.zeros_like(b[0])
    for t in range(len(a)):
        prev = a[t] * prev + b[t]
        h[t] = prev
    return h, len(a)


def scan_hillis_steele(a, b, h0=None):
    """Inclusive scan by recursive doubling (Hillis & Steele 1986).

    At level k every position t >= 2^k takes in the composite that ends 2^k steps earlier, so
    after ceil(log2 T) levels position t holds the composition of steps 0..t. Each level is one
    `combine` over all positions at once. Returns (h, levels)."""
    A, B = _with_initial_state(a, b, h0)
    A = A.copy()
    T, d, levels = len(A), 1, 0
    while d < T:
        # the right-hand side is evaluated in full before either slice is overwritten
        A[d:], B[d:] = combine((A[:-d], B[:-d]), (A[d:], B[d:]))
        d *= 2
        levels += 1
    return B, levels


def _prefix(a, b):
    """(A, B, rounds): inclusive prefix compositions by pairing, recursion and a fix-up."""
    T = len(a)
    if T == 1:
        return a, b, 0
    n = T // 2
    # round 1: combine neighbours (0,1), (2,3), ...: a sequence half as long
    pa, pb = combine((a[0:2 * n:2], b[0:2 * n:2]), (a[1:2 * n:2], b[1:2 * n:2]))
    PA, PB, rounds = _prefix(pa, pb)  # prefixes ending at the odd positions 1, 3, 5, ...
    A, B = np.empty_like(a), np.empty_like(b)
    A[1::2], B[1::2] = PA, PB
    A[0], B[0] = a[0], b[0]
    # round 2: each even position 2i >= 2 = (prefix ending at 2i-1) o (step 2i)
    m = (T - 1) // 2
    A[2::2], B[2::2] = combine((PA[:m], PB[:m]), (a[2::2], b[2::2]))
    return A, B, rounds + 2


def scan_blelloch(a, b, h0=None):
    """Work-efficient scan (Blelloch 1990, in its recursive form): pair neighbours, scan the
    half-length sequence of pairs, then fill in the positions in between. About 2T combines
    of work in about 2 log2 T rounds. Returns (h, rounds)."""
    a, b = _with_initial_state(a, b, h0)
    _, B, rounds = _prefix(a, b)
    return B, rounds


def scan_log(log_a, log_b, log_h0=None):
    """The recurrence in log space for positive values (Feng et al. 2024; Heinsen 2023).

    With a*_t = log a_1 + ... + log a_t (a cumulative sum),
        h_t = exp(a*_t) * sum_{k<=t} b_k exp(-a*_k),
    and in logs: log h_t = a*_t + logcumsumexp_k(log b_k - a*_k). In linear space exp(-a*_k)
    overflows for long sequences; in logs nothing does. Returns (log h, 2): two NumPy calls
    over the whole sequence, each a sequential loop in compiled code."""
    log_a, log_b = np.asarray(log_a), np.array(log_b)
    if log_h0 is not None:
        log_b[0] = np.logaddexp(log_b[0], log_a[0] + np.asarray(log_h0))
    a_star = np.cumsum(log_a, axis=0)
    return a_star + np.logaddexp.accumulate(log_b - a_star, axis=0), 2


def _scan_log_linear(a, b, h0=None):
    """scan_log for a, b given in linear space (a > 0, b >= 0, h0 >= 0). Returns (h, steps)."""
    if np.any(np.asarray(b) < 0) or (h0 is not None and np.any(np.asarray(h0) < 0)):
        raise ValueError("the log-space scan needs b >= 0 and h0 >= 0 (logs of negative numbers "
                         "do not exist); use another method for signed values")
    with np.errstate(divide="ignore"):  # log(0) = -inf is fine: it adds nothing
        log_h, steps = scan_log(np.log(a), np.log(b), None if h0 is None else np.log(h0))
    return np.exp(log_h), steps


METHODS = {
    "loop": scan_loop,
    "hillis_steele": scan_hillis_steele,
    "blelloch": scan_blelloch,
    "log": _scan_log_linear,
}


def scan(a, b, h0=None, method="blelloch"):
    """h_t = a_t * h_{t-1} + b_t along axis 0 by `method` (a key of METHODS). Returns (h, steps)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return METHODS[method](a, b, h0)


def reverse_scan(a_next, d, method="blelloch"):
    """g_t = d_t + a_next_t * g_{t+1}, from the last step back to the first (g_T+1 = 0).

    This is the backward pass of the recurrence: with a_next_t = a_{t+1} and d_t = dL/dh_t
    (the direct gradient), g_t is the total gradient reaching h_t. It is the forward recurrence
    on time-reversed arrays. The log method handles signed d by linearity: the scan of the
    positive part minus the scan of the negative part. The last entry of a_next multiplies
    g_{T+1} = 0 and is ignored. Returns (g, steps)."""
    a_rev, d_rev = np.array(a_next)[::-1], np.asarray(d)[::-1]
    a_rev[0] = 1  # multiplies g_{T+1} = 0; 1 keeps the log method's cumulative sum finite
    if method == "log":
        pos, s1 = scan(a_rev, np.maximum(d_rev, 0), method="log")
        neg, s2 = scan(a_rev, np.maximum(-d_rev, 0), method="log")
        return (pos - neg)[::-1], s1 + s2
    g, steps = scan(a_rev, d_rev, method=method)
    return g[::-1], steps
