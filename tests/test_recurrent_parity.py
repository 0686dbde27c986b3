"""RNN, LSTM and GRU against torch.nn: outputs, final states and every gradient, through
from_torch and back through to_torch, in float64 (1e-10) and float32 (1e-5); and chapter 12's
parity checks (lstm_lib.parity): the same function, the same training run. Every test here
needs torch (skipped without it) but the one of the LSTM's forget-gate bias."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import parity
from lstm_lib.interop import from_torch, grads_from_torch, to_torch

SHAPES = [(3, 7, 4, 5), (1, 1, 1, 1), (2, 9, 1, 6), (4, 3, 6, 2)]  # batch, time, input, hidden
TOL = {np.float64: 1e-10, np.float32: 1e-5}


def run_torch(torch, module, x, states, dh, dtype):
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
def test_from_torch_matches(recurrent_class, shape, dtype, rng, torch):
    B, T, I, H = shape
    torch.manual_seed(0)
    tcls = getattr(torch.nn, recurrent_class.__name__)
    module = tcls(I, H, batch_first=True, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    layer = from_torch(module)
    assert type(layer) is recurrent_class and layer.dtype == dtype
    x = rng.standard_normal((B, T, I))
    states = [rng.standard_normal((B, H)) for _ in layer.state_names]
    dh = rng.standard_normal((B, T, H))
    out_t, final_t, dx_t, dstate_t = run_torch(torch, module, x, states, dh, dtype)

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


def test_to_torch_round_trip(recurrent_class, rng, torch):
    layer = recurrent_class(3, 4, dtype=np.float64, rng=rng)
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
    ({"num_layers": 2}, "num_layers=2"),
    ({"bidirectional": True}, "bidirectional"),
    ({"batch_first": False}, "batch_first=False"),
    ({"proj_size": 2}, "proj_size=2"),
])
def test_from_torch_rejects_unsupported(bad, match, torch):
    kwargs = {"batch_first": True, **bad}
    with pytest.raises(ValueError, match=match):
        from_torch(torch.nn.LSTM(3, 4, **kwargs))


def test_from_torch_rejects_other_modules(torch):
    with pytest.raises(TypeError, match="Linear"):
        from_torch(torch.nn.Linear(3, 4))
    with pytest.raises(TypeError, match="Linear"):
        to_torch(L.Linear(3, 4))


# --- chapter 12's parity checks (lstm_lib.parity) ------------------------------------------

def test_parity_forward_backward(torch):
    diffs = parity.parity_forward_backward(batch=3, time_steps=5, input_size=2, hidden=4)
    assert set(diffs) >= {"output h_t", "dx", "dW_x", "dW_h", "db", "dh0", "dc0"}
    assert max(diffs.values()) < 1e-12, diffs


def _training_task():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6, 1))
    return X, X[:, -2:, 0].sum(1, keepdims=True)


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_parity_training_same_loss_curve(optimizer, torch):
    ours, theirs, pdiff = parity.parity_training(*_training_task(), hidden=5, optimizer=optimizer,
                                                 lr=0.05, epochs=4, batch_size=20)
    assert len(ours) == len(theirs) == 8
    assert np.max(np.abs(ours - theirs)) < 1e-10 and pdiff < 1e-10
    assert ours[-2:].mean() < ours[:2].mean()  # it did train


def test_parity_training_notices_a_different_recipe(torch):
    """The same check must fail when the two sides do not train the same way."""
    X, Y = _training_task()
    a, _, _ = parity.parity_training(X, Y, hidden=5, optimizer="sgd", lr=0.05, epochs=1, batch_size=16)
    b, _, _ = parity.parity_training(X, Y, hidden=5, optimizer="sgd", lr=0.06, epochs=1, batch_size=16)
    assert np.max(np.abs(a - b)) > 1e-6
    with pytest.raises(ValueError, match="optimizer must be one of"):
        parity.parity_training(X, Y, optimizer="rmsprop")

