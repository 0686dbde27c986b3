"""Chapter 01: RNN gradients (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course.exercises import ch01
from lstm_lib.course.widgets import rnn_gradients as rg


def test_recurrent_matrix_has_requested_spectral_radius():
    for rho in (0.5, 1.0, 2.0):
        assert rg.spectral_radius(rg.recurrent_matrix(16, rho)) == pytest.approx(rho)


def test_matrix_part_grows_by_radius_per_step():
    for rho in (0.8, 1.0, 1.2):
        norms = rg.gradient_norms(rho, 80, hidden=16, nonlinear=False)
        assert norms.shape == (81,) and norms[-1] == 1.0
        assert rg.growth_factor(norms) == pytest.approx(rho, abs=0.02)
    # raising the radius raises the gradient that reaches h_0
    assert rg.gradient_norms(1.2, 80, 16, nonlinear=False)[0] > 1e3
    assert rg.gradient_norms(0.8, 80, 16, nonlinear=False)[0] < 1e-3


def test_tanh_rnn_vanishes_at_small_radius_and_explodes_at_large():
    small = rg.gradient_norms(0.9, 60, hidden=16)
    large = rg.gradient_norms(3.0, 100, hidden=32)
    assert small[0] < 1e-6 and large[0] > 1e6
    # longer sequences: the vanishing gradient gets smaller still
    assert rg.gradient_norms(0.9, 120, hidden=16)[0] < small[0]


def test_gradient_norms_match_the_rnn_layer():
    H, T, rho = 8, 20, 1.3
    rng = np.random.default_rng(1)
    rnn = L.RNN(1, H, dtype=np.float64)
    rnn.params["W_h"][...] = rg.recurrent_matrix(H, rho, 0)
    rnn.params["W_x"][...] = rng.standard_normal((1, H)) * 0.5
    x = rng.standard_normal((T, 1, 1)).reshape(1, T, 1)
    u = rng.standard_normal((1, H))
    out = rnn.forward(x)
    d = np.zeros_like(out)
    d[:, -1] = u / np.linalg.norm(u)
    rnn.backward(d)
    assert np.linalg.norm(rnn.dstate0[0]) == pytest.approx(rg.gradient_norms(rho, T, hidden=H)[0], rel=1e-8)


def test_rnn_gradient_plot_and_summary():
    import matplotlib.pyplot as plt

    fig = rg.plot_gradient_norms(1.5, 30, hidden=8)
    assert len(fig.axes[0].lines) == 3
    plt.close(fig)
    fig = rg.plot_radius_comparison((0.9, 1.1), length=20, hidden=8)
    assert len(fig.axes) == 2
    plt.close(fig)
    a, b = rg.summary_gradient_norms(0.9, 50), rg.summary_gradient_norms(2.5, 50)
    assert "0.90" in a and "2.50" in b and a != b


def test_rnn_gradient_widget_builds(monkeypatch, tiny_figure):
    monkeypatch.setattr(rg, "plot_gradient_norms", tiny_figure)
    pytest.importorskip("ipywidgets")
    box = rg.rnn_gradient_widget()
    controls = box.children[0].children
    readout = box.children[1]
    before = readout.value
    controls[0].value = 2.0
    assert readout.value != before and "2.00" in readout.value
    assert all(c.continuous_update is False for c in controls)


def jac_right(h, W):
    return np.diag(1 - h ** 2) @ W.T


@pytest.mark.parametrize("wrong, words", [
    (lambda h, W: W.T, "no tanh derivative"),
    (lambda h, W: (np.diag(1 - h ** 2) @ W.T).T, "transposed"),
    (lambda h, W: np.diag(1 - h ** 2) @ W, "W_h.T belongs"),
    (lambda h, W: np.diag(1 - np.tanh(h) ** 2) @ W.T, "tanh to h_t again"),
    (lambda h, W: np.diag(1 - h) @ W.T, "squared"),
    (lambda h, W: np.ones((3, 3)), "shape (3, 3)"),
    (lambda h, W: np.diag(h) @ W.T, "off by"),
    (lambda h, W: undefined_name, "NameError"),  # noqa: F821
])
def test_check_step_jacobian(wrong, words):
    assert ch01.check_step_jacobian.verdict(jac_right)[0]
    ok, msg = ch01.check_step_jacobian.verdict(wrong)
    assert not ok and words in msg


@pytest.mark.parametrize("wrong, words", [
    (lambda W: np.linalg.norm(W, 2), "singular value"),
    (lambda W: np.linalg.norm(W), "Frobenius"),
    (lambda W: np.max(np.linalg.eigvals(W).real), "np.abs"),
    (lambda W: np.linalg.eigvals(W), "returned 2 numbers"),
    (lambda W: np.max(np.linalg.eigvals(np.array(W, dtype=complex))), "complex"),
    (lambda W: 1.0, "expected 0.9"),
])
def test_check_spectral_radius(wrong, words):
    assert ch01.check_spectral_radius.verdict(lambda W: np.max(np.abs(np.linalg.eigvals(W))))[0]
    ok, msg = ch01.check_spectral_radius.verdict(wrong)
    assert not ok and words in msg
