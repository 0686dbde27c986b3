"""The fast sequence layers equal the readable step functions; carried state; grads overwrite."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import cells

KINDS = {"RNN": L.RNN, "LSTM": L.LSTM, "GRU": L.GRU}


def make(kind, I, H, rng, dtype=np.float64, **kw):
    lay = KINDS[kind](I, H, dtype=dtype, rng=rng, **kw)
    for p in lay.params.values():
        p[...] += (0.3 * rng.standard_normal(p.shape)).astype(dtype)
    return lay


def step_by_step(kind, lay, x, dh):
    """Forward and backward with the readable cell functions, one step at a time."""
    p = lay.params
    B, T, _ = x.shape
    H = lay.hidden_size
    h, c = np.zeros((B, H)), np.zeros((B, H))
    hs, caches = [], []
    for t in range(T):
        if kind == "RNN":
            h, cache = cells.rnn_step(x[:, t], h, p["W_x"], p["W_h"], p["b"])
        elif kind == "LSTM":
            h, c, cache = cells.lstm_step(x[:, t], h, c, p["W_x"], p["W_h"], p["b"])
        else:
            h, cache = cells.gru_step(x[:, t], h, p["W_x"], p["W_h"], p["b"], p["b_hn"])
        hs.append(h)
        caches.append(cache)
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in reversed(range(T)):
        if kind == "RNN":
            dx[:, t], dh_next, *g = cells.rnn_step_backward(dh[:, t] + dh_next, caches[t])
        elif kind == "LSTM":
            dx[:, t], dh_next, dc_next, *g = cells.lstm_step_backward(dh[:, t] + dh_next, dc_next, caches[t])
        else:
            dx[:, t], dh_next, *g = cells.gru_step_backward(dh[:, t] + dh_next, caches[t])
        for k, gk in zip(grads, g):
            grads[k] += gk
    return np.stack(hs, 1), dx, grads


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("shape", [(3, 6, 4, 5), (1, 1, 1, 1), (2, 5, 1, 3), (1, 4, 2, 1)])
@pytest.mark.parametrize("kind", KINDS)
def test_fast_layer_equals_step_functions(kind, shape, dtype, tol, rng):
    B, T, I, H = shape
    lay = make(kind, I, H, rng, dtype)
    x, dh = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    ref = make(kind, I, H, rng, np.float64)
    for k in ref.params:
        ref.params[k][...] = lay.params[k]
    hs_ref, dx_ref, g_ref = step_by_step(kind, ref, x, dh)
    hs = lay.forward(x)
    dx = lay.backward(dh)
    assert hs.dtype == dtype and dx.dtype == dtype
    np.testing.assert_allclose(hs, hs_ref, atol=tol, rtol=0)
    np.testing.assert_allclose(dx, dx_ref, atol=tol, rtol=0)
    for k in g_ref:
        np.testing.assert_allclose(lay.grads[k], g_ref[k], atol=tol * max(1, np.abs(g_ref[k]).max()), rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_chunks_with_carried_state_equal_whole(kind, rng):
    lay = make(kind, 2, 4, rng, stateful=True)
    x = rng.standard_normal((3, 17, 2))
    whole = lay.forward(x)
    lay.reset_state()
    parts = [lay.forward(x[:, s:s + 5]) for s in range(0, 17, 5)]
    np.testing.assert_allclose(np.concatenate(parts, 1), whole, atol=1e-12)
    lay.reset_state()
    np.testing.assert_allclose(lay.forward(x[:, :5]), whole[:, :5], atol=1e-12)


def test_not_stateful_starts_from_zero_each_call(rng):
    lay = make("LSTM", 2, 3, rng)
    x = rng.standard_normal((2, 4, 2))
    np.testing.assert_array_equal(lay.forward(x), lay.forward(x))


def test_stateful_gradient_stops_at_chunk_edge(rng):
    """Truncated BPTT: backward of the second chunk equals a fresh run from its initial state."""
    lay = make("LSTM", 2, 3, rng, stateful=True)
    x = rng.standard_normal((2, 8, 2))
    lay.forward(x[:, :4])
    h, c = lay.state
    lay.forward(x[:, 4:])
    dh = rng.standard_normal((2, 4, 3))
    dx = lay.backward(dh)
    fresh = make("LSTM", 2, 3, rng)
    for k in fresh.params:
        fresh.params[k][...] = lay.params[k]
    fresh.forward(x[:, 4:], h, c)
    np.testing.assert_allclose(dx, fresh.backward(dh), atol=1e-12)


def test_grads_overwrite_not_accumulate(rng):
    lay = make("GRU", 2, 3, rng)
    x, dh = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    lay.forward(x)
    lay.backward(dh)
    first = {k: g.copy() for k, g in lay.grads.items()}
    lay.forward(x)
    lay.backward(dh)
    for k, g in first.items():
        np.testing.assert_array_equal(lay.grads[k], g)


def test_outputs_do_not_alias_between_calls(rng):
    lay = make("LSTM", 2, 3, rng)
    a = lay.forward(rng.standard_normal((2, 4, 2)))
    keep = a.copy()
    lay.forward(rng.standard_normal((2, 4, 2)))
    np.testing.assert_array_equal(a, keep)


def test_final_gradients_enter_backward(rng):
    """dh_T/dc_T given to backward equal a loss on the final state."""
    lay = make("LSTM", 2, 3, rng)
    x = rng.standard_normal((1, 5, 2))
    hs = lay.forward(x)
    dcT = rng.standard_normal((1, 3))
    dx = lay.backward(np.zeros_like(hs), dc_T=dcT)
    eps, num = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sgn in (1, -1):
            xp = x.copy()
            xp[idx] += sgn * eps
            lay.forward(xp)
            num[idx] += sgn * np.sum(lay.state[1] * dcT) / (2 * eps)
    np.testing.assert_allclose(dx, num, atol=1e-8)


def test_readable_initialisation_documented():
    doc = L.LSTM.__doc__
    assert "forget_bias" in doc and "orthogonal" in doc and "1/sqrt(H)" in doc
    lay = L.LSTM(3, 4)
    W = lay.params["W_h"][:, :4]
    np.testing.assert_allclose(W.T @ W, np.eye(4), atol=1e-5)


# --- plain time loops --------------------------------------------------------------------------

def test_the_core_layers_run_plain_loops():
    """The batch split is chapter 13's experiment (contestants.SplitBatch), not the core's:
    the layers' modules neither import `threads` nor hand their loops to a runner."""
    import inspect

    from lstm_lib import gru, lstm, recurrent, rnn
    for module in (lstm, gru, rnn, recurrent):
        src = inspect.getsource(module)
        assert not any(w in src for w in ("from .threads", "from . import threads",
                                          "run_on_rows", "halves(")), module.__name__


# --- named saved arrays -------------------------------------------------------------------------

@pytest.mark.parametrize("kind, names", [
    ("RNN", {"x", "hidden"}), ("LSTM", {"x", "hidden", "cells", "gate_values", "tanh_c"}),
    ("GRU", {"x", "hidden", "gate_values", "hn"})])
def test_saved_arrays_are_named_and_time_major(kind, names, rng):
    lay = make(kind, 2, 3, rng)
    assert lay.saved_arrays() == {}
    x = rng.standard_normal((4, 5, 2))
    hs = lay.forward(x)
    saved = lay.saved_arrays()
    assert set(saved) == names
    np.testing.assert_array_equal(saved["x"], x.transpose(1, 0, 2))
    np.testing.assert_array_equal(saved["hidden"][1:], hs.transpose(1, 0, 2))
    assert all(a.shape[1] == 4 and a.shape[0] in (5, 6) for a in saved.values())


def test_lstm_saved_gate_values_are_the_gates(rng):
    lay = make("LSTM", 2, 3, rng)
    x = rng.standard_normal((2, 4, 2))
    lay.forward(x)
    saved = lay.saved_arrays()
    p = lay.params
    h, c = np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(4):
        h, c, cache = cells.lstm_step(x[:, t], h, c, p["W_x"], p["W_h"], p["b"])
        gates = np.concatenate([cache.i, cache.f, cache.g, cache.o], axis=1)
        np.testing.assert_allclose(saved["gate_values"][t], gates, atol=1e-13)
        np.testing.assert_allclose(saved["tanh_c"][t], cache.tanh_c, atol=1e-13)


# --- streams: one step at a time ----------------------------------------------------------------

@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_stream_steps_equal_the_sequence_forward(kind, B, dtype, tol, rng):
    lay = make(kind, 3, 4, rng, dtype)
    x = rng.standard_normal((B, 9, 3))
    s0 = [rng.standard_normal((B, 4)) for _ in lay.state_names]
    whole = lay.forward(x, *s0)
    stream = lay.stream(batch_size=B).reset(*s0)
    hs = [stream.step(x[:, t]) for t in range(9)]
    assert hs[0].dtype == dtype and hs[0].shape == (B, 4)
    np.testing.assert_allclose(np.stack(hs, 1), whole, atol=tol, rtol=0)
    for a, b in zip(stream.state, lay.state):
        np.testing.assert_allclose(a, b, atol=tol, rtol=0)
    hs[0][...] = 0  # the returned arrays are the caller's
    np.testing.assert_allclose(np.stack(hs[1:], 1), whole[:, 1:], atol=tol, rtol=0)


def test_stream_reset_and_bad_input(rng):
    lay = make("LSTM", 2, 3, rng)
    stream = lay.stream()
    x = rng.standard_normal((1, 2))
    first = stream.step(x)
    stream.step(x)
    np.testing.assert_array_equal(stream.reset().step(x), first)
    np.testing.assert_array_equal(stream.reset().step(x[0]), first)  # a 1-D x_t at batch 1
    with pytest.raises(ValueError, match="x_t"):
        stream.step(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="c0"):
        stream.reset(np.zeros((1, 3)), np.zeros((2, 3)))


# --- the fast layers against PyTorch with carried state -------------------------------------------

@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("shape", [(2, 9, 3, 4), (1, 1, 1, 1), (1, 6, 1, 1), (3, 5, 1, 2)])
@pytest.mark.parametrize("kind", KINDS)
def test_stateful_chunks_equal_torch_on_the_whole_sequence(kind, shape, dtype, tol, rng):
    """Chunks through a stateful layer give torch's output for the whole sequence; the
    backward of the last chunk equals torch's gradient started from the carried state."""
    torch = pytest.importorskip("torch")
    from lstm_lib.interop import from_torch
    B, T, I, H = shape
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    torch.manual_seed(1)
    module = getattr(torch.nn, kind)(I, H, batch_first=True, dtype=tdt)
    layer = from_torch(module)
    layer.stateful = True
    x = rng.standard_normal((B, T, I))
    with torch.no_grad():
        whole = module(torch.tensor(x, dtype=tdt))[0].numpy()
    cut = max(1, T // 2)
    first = layer.forward(x[:, :cut])
    carried = [s.copy() for s in layer.state]
    parts = [first] + ([layer.forward(x[:, cut:])] if cut < T else [])
    np.testing.assert_allclose(np.concatenate(parts, 1), whole, atol=tol, rtol=0)
    if cut < T:  # gradient of the last chunk, from the carried state
        dh = rng.standard_normal((B, T - cut, H))
        dx = layer.backward(dh)
        xt = torch.tensor(x[:, cut:], dtype=tdt, requires_grad=True)
        st = tuple(torch.tensor(s[None], dtype=tdt) for s in carried)
        out, _ = module(xt, st if kind == "LSTM" else st[0])
        out.backward(torch.tensor(dh, dtype=tdt))
        np.testing.assert_allclose(dx, xt.grad.numpy(), atol=tol, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_batch_one_outputs_do_not_alias_the_buffers(kind, rng):
    """With batch 1 the time-major to batch-first transpose is already contiguous; the output
    must still be a fresh array, not a view that the next call overwrites."""
    lay = KINDS[kind](1, 2, rng=rng)
    a = lay.forward(rng.standard_normal((1, 4, 1)).astype(np.float32))
    keep = a.copy()
    lay.forward(rng.standard_normal((1, 4, 1)).astype(np.float32))
    np.testing.assert_array_equal(a, keep)
