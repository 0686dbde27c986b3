"""lstm_lib.min_rnn: minGRU and minLSTM, forward and backward, by every scan method."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.min_rnn import MinGRU, MinLSTM, g, g_grad, sigmoid_pair
from lstm_lib.scan import METHODS, scan_loop

LAYERS = [MinGRU, MinLSTM]
# (log_space, method): every method of the log-space variant; the plain layer has no 'log'
VARIANTS = [(True, m) for m in METHODS] + [(False, m) for m in METHODS if m != "log"]


def layer64(cls, method, seed=1, input_size=3, hidden=4, log_space=False):
    layer = cls(input_size, hidden, method=method, dtype=np.float64, rng=np.random.default_rng(seed),
                log_space=log_space)
    layer.params["b"][:] = np.random.default_rng(seed + 1).standard_normal(layer.params["b"].shape)
    return layer


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("log_space, method", VARIANTS)
def test_gradient_check_passes(cls, log_space, method, rng):
    x = rng.standard_normal((2, 6, 3))
    h0 = rng.standard_normal((2, 4))  # signed: the log-space variant passes it through g
    report = L.gradient_check(layer64(cls, method, log_space=log_space), x, h0=h0)
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
@pytest.mark.parametrize("log_space", [False, True])
def test_all_methods_equal_forward_and_backward(cls, log_space, rng):
    x = rng.standard_normal((3, 300, 3))
    dh = rng.standard_normal((3, 300, 4))
    h0 = rng.standard_normal((3, 4))
    ref = layer64(cls, "loop", log_space=log_space)
    h_ref = ref.forward(x, h0=h0)
    dx_ref = ref.backward(dh)
    for method in [m for m in METHODS if m != "loop" and (log_space or m != "log")]:
        layer = layer64(cls, method, log_space=log_space)
        h = layer.forward(x, h0=h0)
        dx = layer.backward(dh)
        assert np.max(np.abs(h - h_ref)) < 1e-10
        assert np.max(np.abs(dx - dx_ref)) < 1e-10
        for k in ref.grads:
            assert np.max(np.abs(layer.grads[k] - ref.grads[k])) < 1e-10
        assert np.max(np.abs(layer.dstate0[0] - ref.dstate0[0])) < 1e-10
    assert ref.steps == {"forward": 300, "backward": 300}


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("log_space", [False, True])
def test_output_is_the_recurrence_of_its_coefficients(cls, log_space, rng):
    layer = layer64(cls, "blelloch", log_space=log_space)
    x = rng.standard_normal((2, 9, 3))
    a, b = layer.coefficients(x)
    assert ((a > 0) & (a < 1)).all()
    assert (b > 0).all() if log_space else (b < 0).any() and (b > 0).any()
    h, _ = scan_loop(a.transpose(1, 0, 2), b.transpose(1, 0, 2))
    np.testing.assert_allclose(layer.forward(x), h.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_array_equal(layer.state[0], layer.forward(x)[:, -1])


def paper_g(p):
    """The paper's g: p + 1/2 for p >= 0, sigmoid(p) below."""
    return np.where(p >= 0, p + 0.5, 1 / (1 + np.exp(-p)))


@pytest.mark.parametrize("log_space", [False, True])
def test_min_gru_and_min_lstm_equations(log_space, rng):
    """The paper's equations written out: h~ = Linear(x) (plain), g(Linear(x)) and h_0 = g(h0)
    (log-space variant); the loop over h_t = a_t h_{t-1} + b_t gives the layer's output."""
    x = rng.standard_normal((1, 5, 3))
    h0 = rng.standard_normal((1, 4))
    cand = paper_g if log_space else (lambda p: p)
    gru = layer64(MinGRU, "loop", log_space=log_space)
    Z = x @ gru.params["W_x"] + gru.params["b"]
    z = 1 / (1 + np.exp(-Z[..., :4]))
    ht = cand(Z[..., 4:])
    a, b = gru.coefficients(x)
    np.testing.assert_allclose(a, 1 - z, rtol=1e-12)
    np.testing.assert_allclose(b, z * ht, rtol=1e-12)
    h, expected = cand(h0), []
    for t in range(5):
        h = (1 - z[:, t]) * h + z[:, t] * ht[:, t]
        expected.append(h)
    np.testing.assert_allclose(gru.forward(x, h0=h0), np.stack(expected, axis=1), rtol=1e-12)
    lstm = layer64(MinLSTM, "loop", log_space=log_space)
    Z = x @ lstm.params["W_x"] + lstm.params["b"]
    f, i = 1 / (1 + np.exp(-Z[..., :4])), 1 / (1 + np.exp(-Z[..., 4:8]))
    ht = cand(Z[..., 8:])
    a, b = lstm.coefficients(x)
    np.testing.assert_allclose(a, f / (f + i), rtol=1e-12)
    np.testing.assert_allclose(b, i / (f + i) * ht, rtol=1e-12)


def test_the_two_variants_differ_only_by_g():
    """Same weights: the plain layer's candidate is the log-space variant's before g."""
    x = np.random.default_rng(0).standard_normal((2, 7, 3))
    plain, logv = layer64(MinGRU, "loop"), layer64(MinGRU, "loop", log_space=True)
    (a1, b1), (a2, b2) = plain.coefficients(x), logv.coefficients(x)
    np.testing.assert_array_equal(a1, a2)
    z = 1 - a1
    np.testing.assert_allclose(b2, z * paper_g(b1 / z), rtol=1e-12)
    assert np.max(np.abs(plain.forward(x) - logv.forward(x))) > 0.1


def test_min_rnn_uses_the_one_sigmoid(monkeypatch):
    """sigmoid_pair is activations.sigmoid at x and at -x, not a sigmoid of its own."""
    from lstm_lib import activations, min_rnn
    calls = []

    def spy(x):
        calls.append(x)
        return activations.sigmoid(x)
    monkeypatch.setattr(min_rnn, "sigmoid", spy)
    x = np.linspace(-50, 50, 101)
    s, sn = sigmoid_pair(x)
    assert len(calls) == 2
    np.testing.assert_array_equal(s, activations.sigmoid(x))
    np.testing.assert_array_equal(sn, activations.sigmoid(-x))
    MinGRU(2, 3, rng=np.random.default_rng(0)).forward(np.ones((1, 4, 2)))
    assert len(calls) == 4


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
    with pytest.raises(ValueError, match="needs log_space=True"):
        cls(3, 4, method="log")
    # the log-space variant passes h0 through g, so a negative h0 is fine there
    h = cls(3, 4, method="log", log_space=True).forward(np.zeros((1, 2, 3), np.float32),
                                                         h0=-np.ones((1, 4), np.float32))
    assert np.isfinite(h).all() and (h > 0).all()


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
