"""lstm_lib.xlstm: the mLSTM as a recurrence and as an attention matrix; the sLSTM step."""
import numpy as np
import pytest

from lstm_lib import xlstm as X


def qkv(rng, B=2, T=40, dk=4, dv=3):
    return (rng.standard_normal((B, T, dk)), rng.standard_normal((B, T, dk)),
            rng.standard_normal((B, T, dv)), 2 * rng.standard_normal((B, T)),
            rng.standard_normal((B, T)) + 2)


def naive_mlstm(q, k, v, i_pre, f_pre):
    """The paper's equations without a stabiliser (fine for moderate gate values)."""
    B, T, dk = q.shape
    k = k / np.sqrt(dk)
    C, n, out = np.zeros((B, v.shape[2], dk)), np.zeros((B, dk)), []
    for t in range(T):
        f, i = 1 / (1 + np.exp(-f_pre[:, t])), np.exp(i_pre[:, t])
        C = f[:, None, None] * C + i[:, None, None] * v[:, t, :, None] * k[:, t, None, :]
        n = f[:, None] * n + i[:, None] * k[:, t]
        den = np.maximum(np.abs(np.einsum("bk,bk->b", n, q[:, t])), 1.0)
        out.append(np.einsum("bvk,bk->bv", C, q[:, t]) / den[:, None])
    return np.stack(out, axis=1)


def test_recurrence_and_attention_form_are_equal(rng):
    q, k, v, i_pre, f_pre = qkv(rng)
    h_loop = X.mlstm_recurrent(q, k, v, i_pre, f_pre)
    h_att = X.mlstm_parallel(q, k, v, i_pre, f_pre)
    assert h_loop.shape == (2, 40, 3)
    assert np.max(np.abs(h_loop - h_att)) < 1e-10
    assert np.max(np.abs(h_loop - naive_mlstm(q, k, v, i_pre, f_pre))) < 1e-10


def test_stabiliser_keeps_large_input_gates_finite(rng):
    q, k, v, i_pre, f_pre = qkv(rng)
    big = i_pre + 800.0  # exp(800) overflows float64
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(naive_mlstm(q, k, v, big, f_pre)).all()
    h = X.mlstm_recurrent(q, k, v, big, f_pre)
    assert np.isfinite(h).all()
    assert np.max(np.abs(h - X.mlstm_parallel(q, k, v, big, f_pre))) < 1e-9


def test_weights_are_causal_and_decay(rng):
    q, k, _, i_pre, f_pre = qkv(rng, B=1, T=12)
    W = X.mlstm_weights(q, k, i_pre, f_pre)[0]
    assert W.shape == (12, 12)
    assert (W[np.triu_indices(12, 1)] == 0).all()
    # no decay (f -> 1), i = 1: causal linear attention, normalised by max(|sum|, 1)
    q, k = np.abs(q), np.abs(k)
    W = X.mlstm_weights(q, k, np.zeros((1, 12)), np.full((1, 12), 50.0))[0]
    S = np.tril(q[0] @ k[0].T / 2.0)  # d_k = 4: scale 1/2
    np.testing.assert_allclose(W, S / np.maximum(S.sum(axis=1, keepdims=True), 1), rtol=1e-12)


def test_log_sigmoid():
    x = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(X.log_sigmoid(x[1:4]), np.log(1 / (1 + np.exp(-x[1:4]))), rtol=1e-14)
    assert X.log_sigmoid(x)[0] == -800.0 and X.log_sigmoid(x)[-1] == 0.0


def test_mlstm_shapes_are_checked(rng):
    q, k, v, i_pre, f_pre = qkv(rng)
    with pytest.raises(ValueError, match="q, k must be"):
        X.mlstm_recurrent(q, k[:, :5], v, i_pre, f_pre)
    with pytest.raises(ValueError, match="gate pre-activations"):
        X.mlstm_parallel(q, k, v, i_pre[:, :5], f_pre)


def slstm_params(rng, I=2, H=3):
    W, R = rng.standard_normal((I, 4 * H)), 0.3 * rng.standard_normal((H, 4 * H))
    b = np.zeros(4 * H)
    b[2 * H:3 * H] = 0.5  # forget pre-activation 0.5: f = exp(0.5) > 1, the products grow
    return W, R, b


def test_slstm_stabilised_equals_naive_until_the_naive_one_overflows(rng):
    W, R, b = slstm_params(rng)
    h = c = n = hu = cu = nu = np.zeros((1, 3))
    m = np.full((1, 3), -np.inf)
    overflow_at = None
    for t in range(3000):
        x = 0.1 * rng.standard_normal((1, 2))
        h, c, n, m = X.slstm_step(x, h, c, n, m, W, R, b)
        assert np.isfinite(h).all() and np.isfinite(m).all()
        assert (n >= 1 - 1e-12).all() and (np.abs(c) <= n + 1e-12).all()
        with np.errstate(over="ignore", invalid="ignore"):
            hu, cu, nu = X.slstm_step_unstabilised(x, hu, cu, nu, W, R, b)
        if not (np.isfinite(nu).all() and np.isfinite(cu).all()):
            overflow_at = t
            break
        assert np.max(np.abs(h - hu)) < 1e-12
    assert overflow_at is not None and 1000 < overflow_at < 3000
