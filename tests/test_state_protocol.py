"""The state protocol (lstm_lib.state): every recurrent layer class the package has carries its
state through fit(..., bptt=k), found by the protocol and not by its class; a layer that breaks
the protocol is caught; the readable reference initialises itself."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import training
from lstm_lib.base import Layer
from lstm_lib.min_rnn import _MinRNN
from lstm_lib.recurrent import RecurrentLayer

ABSTRACT = {RecurrentLayer, _MinRNN}  # bases whose forward is left to subclasses


def recurrent_classes():
    """Every Layer class defined in lstm_lib (the course included) whose forward takes an
    initial state `h0`: the recurrent layers, found by what they do, not by a base class."""
    found = {}
    for info in pkgutil.walk_packages(L.__path__, "lstm_lib."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, Layer) and obj.__module__ == module.__name__
                    and "h0" in inspect.signature(getattr(obj, "forward", lambda: 0)).parameters):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


CLASSES = recurrent_classes()
CONCRETE = {name: cls for name, cls in CLASSES.items() if cls not in ABSTRACT}


class Frozen:
    """An optimizer that leaves the weights as they are, so every window sees the same layer."""

    lr = 0.0

    def step(self):
        pass


def build(cls, **kwargs):
    # input size = hidden size: a planted bug that transposes a weight block still runs
    return cls(5, 5, rng=np.random.default_rng(0), **kwargs)


def assert_fit_carries_state(layer, window=4):
    """fit(layer, ..., bptt=window) with a zero learning rate: each window's loss must equal that
    window's loss in one forward over the whole stream, which holds only if the state is
    carried from window to window. Also checks the test has power: starting every window from
    zeros would give other losses."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 3 * window, 5)).astype(np.float32)
    Y = rng.standard_normal((2, 3 * window, 5)).astype(np.float32)
    loss = L.MSELoss()
    hist = L.fit(layer, loss, Frozen(), X, Y, bptt=window, progress=False)
    assert layer.stateful is False, "fit must put the layer's `stateful` back"
    layer.reset_state()
    whole = layer.forward(X)
    windows = range(0, X.shape[1], window)
    carried = [loss.forward(whole[:, s:s + window], Y[:, s:s + window]) for s in windows]
    zeros = []
    for s in windows:
        layer.reset_state()
        zeros.append(loss.forward(layer.forward(X[:, s:s + window]), Y[:, s:s + window]))
    assert not np.allclose(carried[1:], zeros[1:], rtol=1e-4), "the check would not notice"
    assert np.allclose(hist.loss, carried, rtol=1e-5, atol=1e-7), (
        f"{type(layer).__name__}: window losses {hist.loss} under fit(bptt={window}), "
        f"{carried} with the state carried, {zeros} from zeros")


def test_discovery_finds_every_family():
    names = {cls.__name__ for cls in CLASSES.values()}
    assert {"RNN", "LSTM", "GRU", "ReferenceLSTM", "VariantLSTM", "PeepholeLSTM", "MinGRU",
            "MinLSTM", "TextbookLSTM", "InputProjectionLSTM", "WeightDropLSTM"} <= names
    assert len(CONCRETE) >= 30, sorted(CONCRETE)


@pytest.mark.parametrize("cls", sorted(ABSTRACT, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_the_skipped_bases_are_abstract(cls):
    with pytest.raises(NotImplementedError):
        build(cls).forward(np.zeros((1, 2, 5), np.float32))


@pytest.mark.parametrize("name", sorted(CONCRETE))
def test_every_recurrent_layer_follows_the_protocol(name):
    layer = build(CONCRETE[name])
    assert layer.stateful is False
    assert training.recurrent_layers(L.Sequential(layer, L.Linear(5, 1))) == [layer]
    assert_fit_carries_state(layer)


@pytest.mark.parametrize("cls", [L.ReferenceLSTM, L.LSTM])
def test_stateful_layer_carries_and_resets(cls):
    layer = build(cls, stateful=True)
    x = np.random.default_rng(2).standard_normal((2, 8, 5)).astype(np.float32)
    whole = build(cls).forward(x)
    first, second = layer.forward(x[:, :5]), layer.forward(x[:, 5:])
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch mismatch"):
        layer.forward(x[:1])
    layer.reset_state()
    np.testing.assert_allclose(layer.forward(x[:, 5:]), build(cls).forward(x[:, 5:]), rtol=1e-6)


def test_min_rnn_log_space_carries_its_state_past_g():
    assert_fit_carries_state(L.min_rnn.MinGRU(5, 5, method="log", log_space=True,
                                              rng=np.random.default_rng(0)))


# --- plants: a broken protocol must be noticed ------------------------------------------------

class IgnoresCarry(L.ReferenceLSTM):
    """Planted: has the protocol's attributes but starts every call from zeros."""

    def forward(self, x, h0=None, c0=None):
        self.reset_state()
        return super().forward(x, h0, c0)


class NoProtocol(Layer):
    """Planted: a recurrent layer (it takes h0) without the protocol's `stateful`."""

    def __init__(self, *args, **kwargs):
        self.inner = L.ReferenceLSTM(*args, **kwargs)
        self.params, self.grads, self.training = self.inner.params, self.inner.grads, True

    def forward(self, x, h0=None, c0=None):
        return self.inner.forward(x, h0, c0)

    def backward(self, dh):
        return self.inner.backward(dh)


def test_plant_a_layer_that_ignores_its_carried_state():
    with pytest.raises(AssertionError, match="IgnoresCarry: window losses"):
        assert_fit_carries_state(build(IgnoresCarry))


def test_plant_a_layer_without_the_protocol():
    with pytest.raises(ValueError, match="no layer that carries state"):
        assert_fit_carries_state(build(NoProtocol))


def test_plant_the_old_isinstance_lookup(monkeypatch):
    """fit as it was (stateful layers found by isinstance on RecurrentLayer): the reference's
    windows started from zeros; the check names it."""
    def old(model):
        if isinstance(model, RecurrentLayer):
            return [model]
        return [r for layer in getattr(model, "layers", []) for r in old(layer)]

    monkeypatch.setattr(training, "recurrent_layers", old)
    assert_fit_carries_state(build(L.LSTM))  # the fast layer was found ...
    with pytest.raises((AssertionError, ValueError)):
        assert_fit_carries_state(build(L.ReferenceLSTM))  # ... the reference was not


# --- the reference initialises itself ---------------------------------------------------------

@pytest.mark.parametrize("forget_bias", [1.0, 0.0])
def test_reference_draws_the_fast_layers_weights(forget_bias):
    for seed in (0, 7):
        ref = L.ReferenceLSTM(3, 6, forget_bias, rng=np.random.default_rng(seed))
        fast = L.LSTM(3, 6, forget_bias, rng=np.random.default_rng(seed))
        for k in fast.params:
            np.testing.assert_array_equal(ref.params[k], fast.params[k])
    L.seed(3)
    ref = L.ReferenceLSTM(2, 4)
    L.seed(3)
    fast = L.LSTM(2, 4)
    assert all(np.array_equal(ref.params[k], fast.params[k]) for k in fast.params)


def test_reference_does_not_build_the_layer_it_checks(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("ReferenceLSTM built an lstm.LSTM")

    monkeypatch.setattr(L.lstm.LSTM, "__init__", refuse)
    layer = L.ReferenceLSTM(2, 3, rng=np.random.default_rng(0))
    assert layer.params["W_x"].shape == (2, 12)
