"""Chapter 13's step-by-step layers equal the library's fast layer; the fast layers equal the
readable step functions and PyTorch with carried state, in float64 and float32, for odd
shapes. No timing assertions: speed is measured by `python -m lstm_lib.bench`, never
asserted."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import cells
from lstm_lib.course import speed_steps as speed

SHAPES = [(3, 6, 4, 5), (1, 1, 1, 1), (2, 5, 1, 3), (1, 4, 2, 1), (1, 7, 1, 2)]  # B, T, I, H
KINDS = {"RNN": L.RNN, "LSTM": L.LSTM, "GRU": L.GRU}


def lstm64(I, H, rng):
    lay = L.LSTM(I, H, dtype=np.float64, rng=rng)
    for p in lay.params.values():
        p[...] += 0.3 * rng.standard_normal(p.shape)
    return lay


def run(layer, x, dh):
    y = layer.forward(x)
    return y, layer.backward(dh), {k: g.copy() for k, g in layer.grads.items()}


# --- chapter 13's steps ------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("step", list(speed.STEPS))
def test_each_step_equals_the_library_layer(step, shape, rng):
    B, T, I, H = shape
    lay = lstm64(I, H, rng)
    x, dh = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    y_ref, dx_ref, g_ref = run(lay, x, dh)
    model = speed.STEPS[step].from_layer(lay)
    y, dx, g = run(model, x, dh)
    assert y.shape == (B, T, H) and dx.shape == (B, T, I)
    np.testing.assert_allclose(y, y_ref, atol=1e-12, rtol=0)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12, rtol=0)
    assert set(g) == set(g_ref)
    for k in g_ref:
        assert g[k].shape == g_ref[k].shape, k
        np.testing.assert_allclose(g[k], g_ref[k], atol=1e-11, rtol=0, err_msg=k)


def test_readable_step_equals_the_cell_functions(rng):
    """Step 0 against cells.lstm_step, one step at a time (forward)."""
    lay = lstm64(3, 4, rng)
    p = lay.params
    x = rng.standard_normal((2, 5, 3))
    hs = speed.ReadableLSTM.from_layer(lay).forward(x)
    h, c = np.zeros((2, 4)), np.zeros((2, 4))
    for t in range(5):
        h, c, _ = cells.lstm_step(x[:, t], h, c, p["W_x"], p["W_h"], p["b"])
        np.testing.assert_allclose(hs[:, t], h, atol=1e-13, rtol=0)


def test_steps_are_consecutive_and_the_grads_overwrite(rng):
    """The chain of steps is what the chapter says, and backward twice gives the same grads."""
    assert list(speed.STEPS.values()) == [speed.ReadableLSTM, speed.FusedGatesLSTM,
                                          speed.InputProjectionLSTM, speed.LoopFreeGradsLSTM]
    lay = lstm64(2, 3, rng)
    x, dh = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    for cls in speed.STEPS.values():
        m = cls.from_layer(lay)
        _, _, g1 = run(m, x, dh)
        _, _, g2 = run(m, x, dh)
        for k in g1:
            np.testing.assert_array_equal(g1[k], g2[k])


def test_a_broken_step_is_caught(rng):
    """The equality test above notices a wrong step: drop the forget gate's derivative."""
    class Broken(speed.LoopFreeGradsLSTM):
        def _dz(self, k, dh_t, dc_next):
            dz, dc_prev = super()._dz(k, dh_t, dc_next)
            H = self.hidden_size
            dz[:, H:2 * H] /= k["f"] * (1 - k["f"])
            return dz, dc_prev
    lay = lstm64(2, 3, rng)
    x, dh = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    _, dx_ref, g_ref = run(lay, x, dh)
    _, dx, g = run(Broken.from_layer(lay), x, dh)
    assert np.abs(g["W_x"] - g_ref["W_x"]).max() > 1e-3
    assert np.abs(dx - dx_ref).max() > 1e-3


@pytest.mark.parametrize("shape", [(3, 6, 4, 5), (1, 1, 1, 1), (2, 5, 1, 3)])
def test_float32_library_layer_is_close_to_the_float64_steps(shape, rng):
    B, T, I, H = shape
    lay = lstm64(I, H, rng)
    x, dh = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    y_ref, dx_ref, g_ref = run(speed.ReadableLSTM.from_layer(lay), x, dh)
    lay32 = L.LSTM(I, H, dtype=np.float32)
    for k in lay.params:
        lay32.params[k][...] = lay.params[k]
    y, dx, g = run(lay32, x, dh)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(y, y_ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-5, rtol=0)
    for k in g_ref:
        np.testing.assert_allclose(g[k], g_ref[k], atol=1e-5 * max(1, np.abs(g_ref[k]).max()), rtol=0)


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
