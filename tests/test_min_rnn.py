"""lstm_lib.min_rnn: minGRU and minLSTM, forward and backward, by every scan method."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.min_rnn import MinGRU, MinLSTM, g, g_grad, sigmoid_pair
from lstm_lib.scan import METHODS, scan_loop

LAYERS = [MinGRU, MinLSTM]


def layer64(cls, method, seed=1, input_size=3, hidden=4):
    layer = cls(input_size, hidden, method=method, dtype=np.float64, rng=np.random.default_rng(seed))
    layer.params["b"][:] = np.random.default_rng(seed + 1).standard_normal(layer.params["b"].shape)
    return layer


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("method", list(METHODS))
def test_gradient_check_passes(cls, method, rng):
    x = rng.standard_normal((2, 6, 3))
    report = L.gradient_check(layer64(cls, method), x, h0=rng.uniform(0, 1, (2, 4)))
    assert report.passed, report
    assert set(report.errors) == {"W_x", "b", "input", "h0"}


class ShiftForgotten(MinGRU):
    """Planted bug: the backward's reverse scan uses a_t where a_{t+1} belongs."""

    def _next_coefficients(self, a):
        return a


class ZPathForgotten(MinGRU):
    """Planted bug: dz misses the -da term (it forgets that a = 1 - z depends on z too)."""

    def _coefficient_grads(self, da, db, local):
        return super()._coefficient_grads(np.zeros_like(da), db, local)


@pytest.mark.parametrize("bug", [ShiftForgotten, ZPathForgotten])
def test_gradient_check_fails_on_a_planted_bug(bug, rng):
    x = rng.standard_normal((2, 6, 3))
    layer = bug(3, 4, dtype=np.float64, rng=np.random.default_rng(1))
    report = L.gradient_check(layer, x)
    assert not report.passed
    assert report.worst[1] > 1e-3


@pytest.mark.parametrize("cls", LAYERS)
def test_all_methods_equal_forward_and_backward(cls, rng):
    x = rng.standard_normal((3, 300, 3))
    dh = rng.standard_normal((3, 300, 4))
    h0 = rng.uniform(0, 1, (3, 4))
    ref = layer64(cls, "loop")
    h_ref, dx_ref = ref.forward(x, h0=h0), None
    dx_ref = ref.backward(dh)
    for method in ("hillis_steele", "blelloch", "log"):
        layer = layer64(cls, method)
        h = layer.forward(x, h0=h0)
        dx = layer.backward(dh)
        assert np.max(np.abs(h - h_ref)) < 1e-10
        assert np.max(np.abs(dx - dx_ref)) < 1e-10
        for k in ref.grads:
            assert np.max(np.abs(layer.grads[k] - ref.grads[k])) < 1e-10
        assert np.max(np.abs(layer.dstate0[0] - ref.dstate0[0])) < 1e-10
    assert ref.steps == {"forward": 300, "backward": 300}


@pytest.mark.parametrize("cls", LAYERS)
def test_output_is_the_recurrence_of_its_coefficients(cls, rng):
    layer = layer64(cls, "blelloch")
    x = rng.standard_normal((2, 9, 3))
    a, b = layer.coefficients(x)
    assert ((a > 0) & (a < 1)).all() and (b > 0).all()
    h, _ = scan_loop(a.transpose(1, 0, 2), b.transpose(1, 0, 2))
    np.testing.assert_allclose(layer.forward(x), h.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_array_equal(layer.state[0], layer.forward(x)[:, -1])


def test_min_gru_and_min_lstm_equations(rng):
    x = rng.standard_normal((1, 5, 3))
    gru = layer64(MinGRU, "loop")
    Z = x @ gru.params["W_x"] + gru.params["b"]
    z = 1 / (1 + np.exp(-Z[..., :4]))
    p = Z[..., 4:]
    ht = np.where(p >= 0, p + 0.5, 1 / (1 + np.exp(-p)))
    a, b = gru.coefficients(x)
    np.testing.assert_allclose(a, 1 - z, rtol=1e-12)
    np.testing.assert_allclose(b, z * ht, rtol=1e-12)
    lstm = layer64(MinLSTM, "loop")
    Z = x @ lstm.params["W_x"] + lstm.params["b"]
    f, i = 1 / (1 + np.exp(-Z[..., :4])), 1 / (1 + np.exp(-Z[..., 4:8]))
    p = Z[..., 8:]
    ht = np.where(p >= 0, p + 0.5, 1 / (1 + np.exp(-p)))
    a, b = lstm.coefficients(x)
    np.testing.assert_allclose(a, f / (f + i), rtol=1e-12)
    np.testing.assert_allclose(b, i / (f + i) * ht, rtol=1e-12)


def test_sigmoid_pair_g_and_its_derivative():
    p = np.linspace(-40, 40, 8001)
    s, sn = sigmoid_pair(p)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-p)), rtol=1e-14)
    np.testing.assert_allclose(sn, 1 / (1 + np.exp(p)), rtol=1e-14)
    assert sigmoid_pair(np.array([-40.0]))[0][0] > 0  # not rounded to 0
    with np.errstate(over="raise"):
        s, sn = sigmoid_pair(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 1.0])
    s, sn = sigmoid_pair(p)
    expected = np.where(p >= 0, p + 0.5, 1 / (1 + np.exp(-p)))
    np.testing.assert_allclose(g(p, s), expected, rtol=1e-14)
    eps = 1e-6
    q = p[np.abs(p) > 1e-3]
    numeric = (g(q + eps, sigmoid_pair(q + eps)[0]) - g(q - eps, sigmoid_pair(q - eps)[0])) / (2 * eps)
    np.testing.assert_allclose(g_grad(q, *sigmoid_pair(q)), numeric, atol=1e-8)


@pytest.mark.parametrize("cls", LAYERS)
def test_layer_contract(cls, rng):
    layer = cls(3, 5)
    assert layer.params["W_x"].dtype == np.float32 and layer.method == "blelloch"
    assert layer.params["W_x"].shape == (3, cls.blocks * 5) and set(layer.params) == set(layer.grads)
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    h = layer.forward(x)
    assert h.shape == (2, 7, 5) and h.dtype == np.float32
    dh = rng.standard_normal(h.shape).astype(np.float32)
    dx = layer.backward(dh)
    assert dx.shape == x.shape and dx.dtype == np.float32
    first = {k: v.copy() for k, v in layer.grads.items()}
    layer.backward(dh)  # overwrites, never accumulates
    for k, value in first.items():
        np.testing.assert_array_equal(layer.grads[k], value)
    assert layer.steps == {"forward": 4, "backward": 4}  # 2 * floor(log2 7) rounds


@pytest.mark.parametrize("cls", LAYERS)
def test_bad_input_is_named(cls):
    layer = cls(3, 4)
    with pytest.raises(ValueError, match="backward\\(\\) called before forward"):
        layer.backward(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="3-D"):
        layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="x must have shape"):
        layer.forward(np.zeros((2, 5, 7), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        layer.forward(np.full((1, 2, 3), np.nan, np.float32))
    with pytest.raises(TypeError, match="float"):
        layer.forward(np.zeros((1, 2, 3), int))
    layer.forward(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match="dh must have shape"):
        layer.backward(np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="h0 must have shape"):
        layer.forward(np.zeros((1, 2, 3), np.float32), h0=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="method must be one of"):
        cls(3, 4, method="gpu")
    with pytest.raises(ValueError, match="h0 >= 0"):
        cls(3, 4, method="log").forward(np.zeros((1, 2, 3), np.float32), h0=-np.ones((1, 4), np.float32))


def test_trains_in_a_model(rng):
    """A minGRU, its last step and a Linear readout learn the mean of a short sequence."""
    model = L.Sequential(MinGRU(1, 8, rng=np.random.default_rng(0)), L.LastStep(),
                         L.Linear(8, 1, rng=np.random.default_rng(1)))
    loss, opt = L.MSELoss(), L.Adam(model, lr=1e-2)
    first = None
    for _ in range(300):
        x = rng.uniform(0, 1, (32, 5, 1)).astype(np.float32)
        value = loss.forward(model.forward(x), x.mean(axis=1))
        first = value if first is None else first
        model.backward(loss.backward())
        opt.step()
    assert value < first / 10
