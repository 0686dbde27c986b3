"""RNN, LSTM and GRU against torch.nn: outputs, final states and every gradient, through
from_torch and back through to_torch, in float64 (1e-10) and float32 (1e-5)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.interop import from_torch, grads_from_torch, to_torch

torch = pytest.importorskip("torch")

KINDS = {"RNN": (torch.nn.RNN, L.RNN), "LSTM": (torch.nn.LSTM, L.LSTM), "GRU": (torch.nn.GRU, L.GRU)}
SHAPES = [(3, 7, 4, 5), (1, 1, 1, 1), (2, 9, 1, 6), (4, 3, 6, 2)]  # batch, time, input, hidden
TOL = {np.float64: 1e-10, np.float32: 1e-5}


def run_torch(module, x, states, dh, dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    xt = torch.tensor(x, dtype=tdt, requires_grad=True)
    st = [torch.tensor(s[None], dtype=tdt, requires_grad=True) for s in states]
    out, final = module(xt, tuple(st) if len(st) == 2 else st[0])
    final = final if isinstance(final, tuple) else (final,)
    out.backward(torch.tensor(dh, dtype=tdt))
    return (out.detach().numpy(), [f.detach().numpy()[0] for f in final], xt.grad.numpy(),
            [s.grad.numpy()[0] for s in st])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
def test_from_torch_matches(kind, shape, dtype, rng):
    B, T, I, H = shape
    tcls, _ = KINDS[kind]
    torch.manual_seed(0)
    module = tcls(I, H, batch_first=True, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    layer = from_torch(module)
    assert type(layer) is KINDS[kind][1] and layer.dtype == dtype
    x = rng.standard_normal((B, T, I))
    states = [rng.standard_normal((B, H)) for _ in layer.state_names]
    dh = rng.standard_normal((B, T, H))
    out_t, final_t, dx_t, dstate_t = run_torch(module, x, states, dh, dtype)

    out = layer.forward(x, *states)
    dx = layer.backward(dh)
    tol = TOL[dtype]
    np.testing.assert_allclose(out, out_t, atol=tol, rtol=0)
    for a, b in zip(layer.state, final_t):
        np.testing.assert_allclose(a, b, atol=tol, rtol=0)
    np.testing.assert_allclose(dx, dx_t, atol=tol, rtol=0)
    for a, b in zip(layer.dstate0, dstate_t):
        np.testing.assert_allclose(a, b, atol=tol, rtol=0)
    gt = grads_from_torch(module)
    assert set(gt) == set(layer.grads)
    for k in layer.grads:
        scale = max(1.0, np.abs(gt[k]).max())
        np.testing.assert_allclose(layer.grads[k], gt[k], atol=tol * scale, rtol=0, err_msg=k)


@pytest.mark.parametrize("kind", KINDS)
def test_to_torch_round_trip(kind, rng):
    _, lcls = KINDS[kind]
    layer = lcls(3, 4, dtype=np.float64, rng=rng)
    for p in layer.params.values():
        p[...] = rng.standard_normal(p.shape)  # every parameter non-trivial, GRU b_hn included
    module = to_torch(layer)
    x = rng.standard_normal((2, 5, 3))
    with torch.no_grad():
        out_t = module(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(layer.forward(x), out_t, atol=1e-12, rtol=0)
    back = from_torch(module)
    np.testing.assert_allclose(back.forward(x), out_t, atol=1e-12, rtol=0)


def test_lstm_default_forget_bias_and_argument():
    H = 5
    assert np.all(L.LSTM(2, H).params["b"][H:2 * H] == 1.0)
    b = L.LSTM(2, H, forget_bias=0.0).params["b"]
    assert np.all(b == 0.0)
    b = L.LSTM(2, H, forget_bias=2.5).params["b"]
    assert np.all(b[H:2 * H] == 2.5) and np.all(b[:H] == 0) and np.all(b[2 * H:] == 0)


@pytest.mark.parametrize("bad, match", [
    (dict(num_layers=2), "num_layers=2"),
    (dict(bidirectional=True), "bidirectional"),
    (dict(batch_first=False), "batch_first=False"),
    (dict(proj_size=2), "proj_size=2"),
])
def test_from_torch_rejects_unsupported(bad, match):
    kwargs = dict(batch_first=True)
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        from_torch(torch.nn.LSTM(3, 4, **kwargs))


def test_from_torch_rejects_other_modules():
    with pytest.raises(TypeError, match="Linear"):
        from_torch(torch.nn.Linear(3, 4))
    with pytest.raises(TypeError, match="Linear"):
        to_torch(L.Linear(3, 4))
