"""Every layer and loss passes the numerical gradient check (float64, < 1e-6) on several
shapes, and the checker fails on layers whose backward is wrong."""
import numpy as np
import pytest

import lstm_lib as L

SHAPES = [(2, 4, 3, 5), (1, 1, 1, 1), (1, 6, 1, 3), (3, 1, 2, 2)]  # batch, time, input, hidden


def layer(kind, I, H, rng):
    lay = {"RNN": L.RNN, "LSTM": L.LSTM, "GRU": L.GRU}[kind](I, H, dtype=np.float64, rng=rng)
    for p in lay.params.values():  # non-trivial biases too, b_hn included
        p[...] += 0.3 * rng.standard_normal(p.shape)
    return lay


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_pass(kind, shape, rng):
    B, T, I, H = shape
    lay = layer(kind, I, H, rng)
    report = L.gradient_check(lay, rng.standard_normal((B, T, I)))
    assert report.passed, str(report)
    assert set(report.errors) == set(lay.params) | {"input"}


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_gradient_of_initial_state(kind, rng):
    lay = layer(kind, 2, 3, rng)
    states = {f"{n}0": rng.standard_normal((2, 3)) for n in lay.state_names}
    report = L.gradient_check(lay, rng.standard_normal((2, 4, 2)), **states)
    assert set(states) <= set(report.errors)
    assert report.passed, str(report)


def test_feedforward_layers_pass(rng):
    assert L.gradient_check(L.Linear(4, 3, dtype=np.float64), rng.standard_normal((2, 5, 4))).passed
    assert L.gradient_check(L.Linear(1, 1, dtype=np.float64), rng.standard_normal((1, 1))).passed
    emb = L.Embedding(6, 3, dtype=np.float64)
    ids = np.array([[0, 5, 5, 2]])  # a repeated id: its gradients must add up
    assert L.gradient_check(emb, ids, check_input=False).passed
    assert L.gradient_check(L.LastStep(), rng.standard_normal((2, 4, 3))).passed
    seq = L.Sequential(L.LSTM(2, 3, dtype=np.float64), L.Linear(3, 1, dtype=np.float64))
    assert L.gradient_check(seq, rng.standard_normal((2, 4, 2))).passed


def test_dropout_pass_with_fixed_mask(rng):
    drop = L.Dropout(0.5, rng=np.random.default_rng(0))
    x = rng.standard_normal((3, 4))
    y = drop.forward(x)
    dx = drop.backward(np.ones_like(y))
    mask = drop._cache
    np.testing.assert_array_equal(dx, mask)
    assert set(np.unique(mask)) <= {0.0, 2.0}
    np.testing.assert_array_equal(drop.eval().forward(x), x)


def test_losses_pass(rng):
    assert L.loss_gradient_check(L.MSELoss(), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))).passed
    assert L.loss_gradient_check(L.MSELoss("sum"), rng.standard_normal((4, 1)), rng.standard_normal((4, 1))).passed
    logits, targets = rng.standard_normal((2, 5, 4)), rng.integers(0, 4, (2, 5))
    assert L.loss_gradient_check(L.SoftmaxCrossEntropy(), logits, targets).passed
    targets[0, :2] = -1
    assert L.loss_gradient_check(L.SoftmaxCrossEntropy(ignore_index=-1), logits, targets).passed


class WrongSigmoidLSTM(L.ReferenceLSTM):
    """Backward forgets the output gate's sigmoid derivative (the classic missing-sigmoid'
    bug), planted through ReferenceLSTM's overridable `gates_backward`."""

    def gates_backward(self, dh, dc, cache):
        dz, dc_prev = super().gates_backward(dh, dc, cache)
        H = self.hidden_size
        dz[:, 3 * H:] /= cache.o * (1 - cache.o)  # undo the derivative
        return dz, dc_prev


class NoCarryRNN(L.RNN):
    """Backward drops the gradient flowing to the previous step: each step's output gradient
    goes back through that step only (built from the layer's public forward and backward)."""

    def forward(self, x, h0=None):
        self._x, self._h0 = np.asarray(x), h0
        self._hs = super().forward(x, h0)
        return self._hs

    def backward(self, dh):
        T = self._x.shape[1]
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dx = np.zeros_like(self._x)
        for t in range(T):
            h_prev = self._h0 if t == 0 else self._hs[:, t - 1]
            super().forward(self._x[:, t:t + 1], h_prev)
            dx[:, t:t + 1] = super().backward(dh[:, t:t + 1])
            for k in grads:
                grads[k] += self.grads[k]
        for k, g in grads.items():
            self.grads[k][...] = g
        return dx


def test_checker_fails_on_wrong_backward(rng):
    x = rng.standard_normal((2, 5, 3))
    report = L.gradient_check(WrongSigmoidLSTM(3, 4, dtype=np.float64, rng=rng), x)
    assert not report.passed
    assert report.errors["W_x"] > 1e-2 and "FAILED" in str(report)
    report = L.gradient_check(NoCarryRNN(3, 4, dtype=np.float64, rng=rng), x)
    assert not report.passed and report.worst[1] > 1e-2


def test_checker_flags_a_small_error(rng):
    """A gradient off by 0.1% of its size must not pass."""
    class Slightly(L.Linear):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["W"] *= 1.001
            return dx
    report = L.gradient_check(Slightly(3, 2, dtype=np.float64), rng.standard_normal((4, 3)))
    assert not report.passed and report.worst[0] == "W"


def test_gradient_check_leaves_layer_unchanged(rng):
    lay = L.LSTM(2, 3, rng=rng)
    before = {k: v.copy() for k, v in lay.params.items()}
    L.gradient_check(lay, rng.standard_normal((1, 3, 2)))
    assert lay.dtype == np.float32
    for k, v in before.items():
        np.testing.assert_array_equal(lay.params[k], v)
