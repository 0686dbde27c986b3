"""Shared fixtures for the tests."""
import numpy as np
import pytest

import lstm_lib as L


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def torch():
    """The torch module; a test that asks for it is skipped (with the reason) without torch.
    Files with torch-free tests use this, never a module-level `import torch`."""
    return pytest.importorskip("torch")


@pytest.fixture(params=["RNN", "LSTM", "GRU"])
def recurrent_class(request):
    """Each of the library's recurrent layer classes in turn: L.RNN, L.LSTM, L.GRU (test ids
    RNN, LSTM, GRU). The torch counterpart is getattr(torch.nn, recurrent_class.__name__)."""
    return getattr(L, request.param)


@pytest.fixture
def tiny_figure():
    """Stands in for a widget's plot function when only the wiring is tested (drawing is slow):
    monkeypatch.setattr(module, "plot_name", tiny_figure)."""
    import matplotlib.pyplot as plt

    def draw(**values):
        return plt.figure(figsize=(1, 1))
    return draw


@pytest.fixture
def readout_of():
    """The readout text of a widget built by lstm_lib.course.widgets.interact."""
    return lambda box: box.children[1].value


@pytest.fixture
def sliders_of():
    """The controls of a widget built by lstm_lib.course.widgets.interact, in order."""
    return lambda box: box.children[0].children
