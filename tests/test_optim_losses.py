"""Optimisers, clipping, losses and activations against torch and against the math. The tests
that compare with torch ask for the `torch` fixture (skipped without torch); the rest run
without it."""
import warnings

import numpy as np
import pytest

import lstm_lib as L


class Params(L.Layer):
    def __init__(self, arrays):
        super().__init__()
        for k, v in arrays.items():
            self._add_param(k, v.copy())


OPTIMISERS = [  # (ours, theirs(torch, params))
    (lambda m: L.SGD(m, lr=0.1), lambda torch, p: torch.optim.SGD(p, lr=0.1)),
    (lambda m: L.Momentum(m, lr=0.05), lambda torch, p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda m: L.Adam(m), lambda torch, p: torch.optim.Adam(p)),
    (lambda m: L.Adam(m, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda torch, p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
]


@pytest.mark.parametrize("ours, theirs", OPTIMISERS)
def test_optimisers_match_torch_over_5_steps(ours, theirs, rng, torch):
    arrays = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    model = Params(arrays)
    tparams = [torch.tensor(v, requires_grad=True) for v in arrays.values()]
    opt, topt = ours(model), theirs(torch, tparams)
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


def _one_step(opt, model, x):
    model.backward(np.ones_like(model.forward(x)))
    opt.step()


@pytest.mark.parametrize("make", [lambda m: L.Momentum(m, lr=0.1), lambda m: L.Adam(m)])
def test_optimiser_state_is_keyed_by_the_models_parameter_names(make, rng):
    x = rng.standard_normal((2, 4, 1)).astype(np.float32)
    model = L.Sequential(L.LSTM(1, 3), L.LastStep(), L.Linear(3, 1))
    opt = make(model)
    _one_step(opt, model, x)
    assert list(opt.state) == list(model.params) == ["0.W_x", "0.W_h", "0.b", "2.W", "2.b"]
    first = model.params["0.b"].copy()
    _one_step(opt, model, x)
    moved = model.params["0.b"] - first  # the state of "0.b" belongs to the LSTM's bias
    assert isinstance(opt, L.Adam) or np.allclose(moved, -0.1 * opt.state["0.b"], atol=1e-6)  # float32

    layer = L.Linear(2, 1)  # a single layer: its own names, no prefix
    opt = make(layer)
    opt.step()
    assert list(opt.state) == list(layer.params) == ["W", "b"]


def test_optimiser_state_of_a_list_of_layers_is_prefixed_by_position():
    a, b = L.Linear(2, 2), L.Linear(2, 1)
    opt = L.Momentum([a, b], lr=0.1)
    b.grads["W"][...] = 1.0
    opt.step()
    assert list(opt.state) == ["0.W", "0.b", "1.W", "1.b"]
    assert np.all(opt.state["1.W"] == 1.0) and np.all(opt.state["0.W"] == 0.0)


@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clipping_matches_torch(max_norm, rng, torch):
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


def test_losses_match_torch(rng, torch):
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


def test_sigmoid_matches_torch(torch):
    np.testing.assert_allclose(L.sigmoid(np.linspace(-8, 8, 33)),
                               torch.sigmoid(torch.linspace(-8, 8, 33, dtype=torch.float64)).numpy(), rtol=1e-14)


def test_recurrent_layers_no_warning_at_extreme_inputs(recurrent_class):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lay = recurrent_class(2, 3)
        out = lay.forward(np.full((1, 3, 2), 1e4, np.float32))
        lay.backward(np.ones_like(out))
        assert np.isfinite(out).all()
