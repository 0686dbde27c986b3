"""Optimisers, clipping, losses and activations against torch and against the math."""
import warnings

import numpy as np
import pytest

import lstm_lib as L

torch = pytest.importorskip("torch")


class Params(L.Layer):
    def __init__(self, arrays):
        super().__init__()
        for k, v in arrays.items():
            self._add_param(k, v.copy())


OPTIMISERS = [
    (lambda m: L.SGD(m, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda m: L.Momentum(m, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda m: L.Adam(m), lambda p: torch.optim.Adam(p)),
    (lambda m: L.Adam(m, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
]


@pytest.mark.parametrize("ours, theirs", OPTIMISERS)
def test_optimisers_match_torch_over_5_steps(ours, theirs, rng):
    arrays = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    model = Params(arrays)
    tparams = [torch.tensor(v, requires_grad=True) for v in arrays.values()]
    opt, topt = ours(model), theirs(tparams)
    for _ in range(5):
        grads = [rng.standard_normal(v.shape) for v in arrays.values()]
        for k, g in zip(model.grads, grads):
            model.grads[k][...] = g
        for t, g in zip(tparams, grads):
            t.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for k, t in zip(model.params, tparams):
        np.testing.assert_allclose(model.params[k], t.detach().numpy(), atol=1e-12, rtol=0)


@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clipping_matches_torch(max_norm, rng):
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    tensors = [torch.tensor(g.copy(), requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g.copy())
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm).item()
    assert L.clip_grad_norm(grads, max_norm) == pytest.approx(expected, rel=1e-12)
    for g, t in zip(grads.values(), tensors):
        np.testing.assert_allclose(g, t.grad.numpy(), atol=1e-14)
    if max_norm < 1:
        assert L.global_norm(grads) == pytest.approx(max_norm, rel=1e-5)


def test_clipping_a_layer_and_a_list(rng):
    a, b = L.Linear(3, 2), L.LSTM(2, 3)
    for g in list(a.grads.values()) + list(b.grads.values()):
        g[...] = 10.0
    before = L.clip_grad_norm([a, b], 1.0)
    assert before > 1 and L.global_norm([a, b]) == pytest.approx(1.0, rel=1e-4)


def test_losses_match_torch(rng):
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for red in ("mean", "sum"):
        expected = torch.nn.functional.mse_loss(torch.tensor(pred), torch.tensor(target), reduction=red)
        assert L.MSELoss(red).forward(pred, target) == pytest.approx(expected.item(), rel=1e-12)
    logits, targets = rng.standard_normal((2, 5, 6)), rng.integers(0, 6, (2, 5))
    targets[1, 3:] = -100
    lt = torch.tensor(logits, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(lt.reshape(-1, 6), torch.tensor(targets).reshape(-1), ignore_index=-100)
    tl.backward()
    ce = L.SoftmaxCrossEntropy(ignore_index=-100)
    assert ce.forward(logits, targets) == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(ce.backward(), lt.grad.numpy(), atol=1e-14)


def test_activations_stable_at_extremes():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = L.sigmoid(x)
        sm = L.softmax(np.array([[1000.0, 0.0, -1000.0]]))
        ls = L.log_softmax(np.array([[1000.0, 0.0]]))
        s32 = L.sigmoid(x.astype(np.float32))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert s32.dtype == np.float32 and s32[0] == 0.0 and s32[-1] == 1.0
    np.testing.assert_allclose(s[1], np.exp(-50) / (1 + np.exp(-50)), rtol=1e-14)
    np.testing.assert_array_equal(sm, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(ls, [[0.0, -1000.0]])
    np.testing.assert_allclose(L.sigmoid(np.linspace(-8, 8, 33)),
                               torch.sigmoid(torch.linspace(-8, 8, 33, dtype=torch.float64)).numpy(), rtol=1e-14)


def test_recurrent_layers_no_warning_at_extreme_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cls in (L.RNN, L.LSTM, L.GRU):
            lay = cls(2, 3)
            out = lay.forward(np.full((1, 3, 2), 1e4, np.float32))
            lay.backward(np.ones_like(out))
            assert np.isfinite(out).all()
