"""xLSTM's two new cells (Beck et al. 2024), forward only.

mLSTM, a matrix memory that is a gated linear recurrence, computed two ways:

    C_t = f_t C_{t-1} + i_t v_t k_t^T      (d_v, d_k) memory, k scaled by 1/sqrt(d_k)
    n_t = f_t n_{t-1} + i_t k_t            normaliser
    h~_t = C_t q_t / max(|n_t . q_t|, 1)   read out with a query

with scalar gates i_t = exp(i~_t) (exponential input gate) and f_t = sigmoid(f~_t).
`mlstm_recurrent` runs the loop over time; `mlstm_parallel` computes the same outputs at once
as a masked, decay-weighted attention-like matrix (q_t . k_s) * exp(sum_{j=s+1..t} log f_j + i~_s)
for s <= t. Both keep a stabiliser m_t (a running maximum of the log gate weights) so that
exp never overflows; it cancels from h~ exactly.

sLSTM, a scalar memory with exponential gating and a recurrent connection (so it is not a
linear recurrence and has no parallel form): `slstm_step` with its normaliser n and
stabiliser m, and `slstm_step_unstabilised`, which computes the same thing naively and
overflows.

Shapes: batch-first, q, k (batch, time, d_k), v (batch, time, d_v), gate pre-activations
(batch, time), one head.
"""
import numpy as np

from .activations import sigmoid


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), without overflow."""
    x = np.asarray(x)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _check_qkv(q, k, v, i_pre, f_pre):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    i_pre, f_pre = np.asarray(i_pre, np.float64), np.asarray(f_pre, np.float64)
    B, T, dk = q.shape
    if k.shape != (B, T, dk) or v.shape[:2] != (B, T):
        raise ValueError(f"q, k must be (batch, time, d_k) and v (batch, time, d_v); got "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if i_pre.shape != (B, T) or f_pre.shape != (B, T):
        raise ValueError(f"gate pre-activations must be (batch, time) = {(B, T)}, got "
                         f"{i_pre.shape} and {f_pre.shape}")
    return q, k / np.sqrt(dk), v, i_pre, f_pre


def mlstm_recurrent(q, k, v, i_pre, f_pre):
    """The mLSTM as a recurrence over time: a (d_v, d_k) memory per sequence. Returns h~ (B, T, d_v)."""
    q, k, v, i_pre, f_pre = _check_qkv(q, k, v, i_pre, f_pre)
    B, T, dk = q.shape
    C = np.zeros((B, v.shape[2], dk))  # memory (stabilised: the true C times exp(-m))
    n = np.zeros((B, dk))  # normaliser
    m = np.full(B, -np.inf)  # stabiliser: the largest log weight so far
    log_f = log_sigmoid(f_pre)
    h = np.empty_like(v)
    for t in range(T):
        m_new = np.maximum(log_f[:, t] + m, i_pre[:, t])
        f = np.exp(log_f[:, t] + m - m_new)[:, None]  # (B, 1): f_t exp(m_{t-1} - m_t)
        i = np.exp(i_pre[:, t] - m_new)[:, None]  # (B, 1): i_t exp(-m_t), at most 1
        C = f[..., None] * C + i[..., None] * v[:, t, :, None] * k[:, t, None, :]  # (B, d_v, d_k)
        n = f * n + i * k[:, t]
        m = m_new
        num = np.einsum("bvk,bk->bv", C, q[:, t])  # C_t q_t
        den = np.maximum(np.abs(np.einsum("bk,bk->b", n, q[:, t])), np.exp(-m))  # max(|n.q|, 1), stabilised
        h[:, t] = num / den[:, None]
    return h


def mlstm_weights(q, k, i_pre, f_pre):
    """The (B, T, T) matrix W with h~ = W v: row t holds the weight of v_s for s <= t,
    (q_t . k_s) D_ts / max(|sum_s (q_t . k_s) D_ts|, 1), D_ts = exp(sum_{j=s+1..t} log f_j + i~_s)."""
    q, k, _, i_pre, f_pre = _check_qkv(q, k, k, i_pre, f_pre)
    T = q.shape[1]
    F = np.cumsum(log_sigmoid(f_pre), axis=1)  # (B, T): sum_{j<=t} log f_j
    logD = F[:, :, None] - F[:, None, :] + i_pre[:, None, :]  # (B, T, T): [t, s]
    logD = np.where(np.tril(np.ones((T, T), bool)), logD, -np.inf)  # causal mask: s <= t
    m = logD.max(axis=2, keepdims=True)  # (B, T, 1) stabiliser, the same m_t as the loop's
    S = (q @ k.transpose(0, 2, 1)) * np.exp(logD - m)  # (B, T, T) decay-weighted scores
    den = np.maximum(np.abs(S.sum(axis=2, keepdims=True)), np.exp(-m))
    return S / den


def mlstm_parallel(q, k, v, i_pre, f_pre):
    """The mLSTM for the whole sequence at once, as attention: h~ = W v. Returns (B, T, d_v)."""
    _, _, v, _, _ = _check_qkv(q, k, v, i_pre, f_pre)
    return mlstm_weights(q, k, i_pre, f_pre) @ v


def slstm_step(x, h_prev, c_prev, n_prev, m_prev, W, R, b):
    """One sLSTM step with exponential input and forget gates, stabilised.

    Pre-activations [z~, i~, f~, o~] = x W + h_prev R + b, each (B, H) (R mixes the memory
    cells: the sLSTM's recurrence is not linear in the state). z = tanh(z~), o = sigmoid(o~),
    i = exp(i~), f = exp(f~). With m_t = max(f~ + m_{t-1}, i~), i' = exp(i~ - m_t) and
    f' = exp(f~ + m_{t-1} - m_t):
        c_t = f' c_{t-1} + i' z,   n_t = f' n_{t-1} + i',   h_t = o c_t / n_t
    c and n are the true cell and normaliser times exp(-m_t), so c/n is unchanged, and
    i', f' <= 1 never overflow. Start with c = n = 0, m = -inf. Returns (h, c, n, m)."""
    zt, it, ft, ot = np.split(x @ W + h_prev @ R + b, 4, axis=-1)
    m = np.maximum(ft + m_prev, it)
    i = np.exp(it - m)
    f = np.exp(ft + m_prev - m)
    c = f * c_prev + i * np.tanh(zt)
    n = f * n_prev + i
    return sigmoid(ot) * c / n, c, n, m


def slstm_step_unstabilised(x, h_prev, c_prev, n_prev, W, R, b):
    """The same sLSTM step computed naively, i = exp(i~), f = exp(f~): overflows to inf (and
    c/n to NaN) once the gate products pass the largest float. Returns (h, c, n)."""
    zt, it, ft, ot = np.split(x @ W + h_prev @ R + b, 4, axis=-1)
    c = np.exp(ft) * c_prev + np.exp(it) * np.tanh(zt)
    n = np.exp(ft) * n_prev + np.exp(it)
    return sigmoid(ot) * c / n, c, n
