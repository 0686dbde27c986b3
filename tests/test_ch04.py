"""Chapter 04: the cell-state highway (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

from lstm_lib.course.exercises import ch04
from lstm_lib.course.widgets import highway


def test_cell_path_gradient_is_product_of_forget_gates():
    for bias in (0.0, 2.0):
        dc0, predicted = highway.cell_path_gradient(bias, length=20, hidden=4)
        assert np.allclose(dc0, predicted, rtol=1e-10, atol=0)
    small = np.linalg.norm(highway.cell_path_gradient(0.0, 20, 4)[0])
    large = np.linalg.norm(highway.cell_path_gradient(3.0, 20, 4)[0])
    assert large > 100 * small  # a larger forget bias keeps more gradient


def test_gradient_survival_lstm_vs_rnn():
    s = highway.gradient_survival(1.0, 100, hidden=8, batch=4)
    assert s["lstm"].shape == s["rnn"].shape == (100,)
    assert s["lstm"][-1] == pytest.approx(1.0) and s["rnn"][-1] == pytest.approx(1.0)
    assert s["lstm"][0] > 1e-5 > highway.FLOAT32_RESOLUTION > s["rnn"][0]
    # the forget bias sets the LSTM's survival; the RNN does not depend on it
    low, high = (highway.gradient_survival(b, 60, hidden=8, batch=4) for b in (0.0, 3.0))
    assert high["lstm"][0] > 1e6 * low["lstm"][0]
    assert np.allclose(low["rnn"], high["rnn"])
    # longer sequences: less survives
    assert highway.gradient_survival(1.0, 150, hidden=8, batch=4)["rnn"][0] < s["rnn"][0]


def test_path_ablation():
    a = highway.path_ablation(3.0, 60, hidden=8, batch=4)
    assert a["both"] > a["cell_only"] > a["h_only"]


def test_highway_plot_summary_widget():
    import matplotlib.pyplot as plt

    fig = highway.plot_survival(1.0, 50)
    assert len(fig.axes[0].lines) == 3
    plt.close(fig)
    text = highway.summary_survival(1.0, 100)
    assert "LSTM" in text and "(survives)" in text and "(vanished)" in text


def test_highway_widget_builds(monkeypatch, tiny_figure):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(highway, "plot_survival", tiny_figure)
    box = highway.highway_widget()
    controls, readout = box.children[0].children, box.children[1]
    controls[0].value = 0.0
    assert "forget bias 0.0" in readout.value


def prod_right(f, dc_T):
    return dc_T * np.prod(f, axis=0)


@pytest.mark.parametrize("wrong, words", [
    (lambda f, d: d * f.sum(axis=0), "summed"),
    (lambda f, d: d * np.prod(1 - f, axis=0), "1 - f"),
    (lambda f, d: np.prod(f, axis=0), "dL/dc_T is missing"),
    (lambda f, d: d * f[-1] ** len(f), "last gate"),
    (lambda f, d: d * np.prod(f[1:], axis=0), "one gate short"),
    (lambda f, d: d * np.prod(f * (1 - f), axis=0), "derivative"),
    (lambda f, d: d * np.cumprod(f[::-1], axis=0), "one row per step"),
    (lambda f, d: np.prod(f, axis=1), "multiply over time"),
])
def test_check_cell_path_gradient(wrong, words):
    assert ch04.check_cell_path_gradient.verdict(prod_right)[0]
    ok, msg = ch04.check_cell_path_gradient.verdict(wrong)
    assert not ok and words in msg, msg


@pytest.mark.parametrize("wrong, words", [
    (lambda f, t: int(np.floor(np.log(t) / np.log(f))), "one step early"),
    (lambda f, t: np.log(t) / np.log(f), "whole number"),
    (lambda f, t: -int(np.floor(np.log(t) / np.log(f))) - 1, "negative"),
    (lambda f, t: int(np.log10(t) / np.log(f)) + 1, "expected"),
    (lambda f, t: [1, 2], "one number"),
])
def test_check_survival_steps(wrong, words):
    assert ch04.check_survival_steps.verdict(lambda f, t: int(np.floor(np.log(t) / np.log(f))) + 1)[0]
    assert ch04.check_survival_steps.verdict(lambda f, t: int(np.ceil(np.log(t) / np.log(f))))[0]
    ok, msg = ch04.check_survival_steps.verdict(wrong)
    assert not ok and words in msg, msg
