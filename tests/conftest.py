"""Shared fixtures for the tests, and the suite's thread rule.

The thread rule: every process the suite starts (notebook kernels of nbval and of the browser
tests, workers, subprocesses) inherits one BLAS/OpenMP thread unless the caller chose a count.
The README's command runs one pytest worker per core; a kernel with a thread per core beside
the other worker makes idle OpenBLAS threads spin against it (a chapter took 615 s instead of
11 s). The kernel (OPENBLAS_CORETYPE) is left as it is.
"""
import os

SUITE_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
for _name, _value in SUITE_THREADS.items():
    os.environ.setdefault(_name, _value)

import numpy as np  # after the thread rule, so that this process follows it too
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
