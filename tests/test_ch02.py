"""Chapter 02: gates (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

from lstm_lib.course.exercises import ch02
from lstm_lib.course.widgets import gates


def test_pulse_forget_gate_keeps_f_to_the_k():
    for bf in (-2.0, 1.0, 5.0):
        tr = gates.pulse_traces(forget_bias=bf, input_bias=6, output_bias=6, length=30)
        f = 1 / (1 + np.exp(-bf))
        assert tr["f"] == pytest.approx(np.full(30, f))
        assert tr["c"][15] / tr["c"][5] == pytest.approx(f ** 10)
    keep = [gates.pulse_traces(forget_bias=bf)["c"][25] for bf in (0.0, 2.0, 4.0)]
    assert keep[0] < keep[1] < keep[2]  # a larger forget bias keeps more
    assert np.all(gates.pulse_traces(forget_bias=6)["c"][:5] == 0)  # nothing before the pulse


def test_pulse_input_gate_scales_what_is_written():
    written = [gates.pulse_traces(input_bias=bi)["c"][5] for bi in (-4.0, 0.0, 4.0)]
    g = np.tanh(2.0)
    assert written == pytest.approx([g / (1 + np.exp(4)), g / 2, g / (1 + np.exp(-4))])


def test_pulse_output_gate_hides_without_erasing():
    hidden = gates.pulse_traces(forget_bias=6, input_bias=6, output_bias=-6, show_at=20)
    shown = gates.pulse_traces(forget_bias=6, input_bias=6, output_bias=6)
    assert np.array_equal(hidden["c"], shown["c"])
    assert np.abs(hidden["h"][5:20]).max() < 0.003
    assert hidden["h"][20] > 0.5


def test_half_life():
    assert gates.half_life(0.5) == pytest.approx(1.0)
    assert gates.half_life(0.5 ** 0.1) == pytest.approx(10.0)
    assert gates.half_life(1.0) == float("inf") and gates.half_life(0.0) == 0.0


def test_gate_plots_and_summary_follow_the_sliders():
    import matplotlib.pyplot as plt

    for fig in (gates.plot_pulse(1.0, 0.0, 0.0), gates.plot_sigmoid_switch(),
                gates.plot_traces([("a", gates.pulse_traces())])):
        assert fig.axes
        plt.close(fig)
    low, high = gates.summary_pulse(forget_bias=-2.0), gates.summary_pulse(forget_bias=6.0)
    assert "f = 0.119" in low and "f = 0.998" in high


def test_gate_widget_builds(monkeypatch, tiny_figure):
    monkeypatch.setattr(gates, "plot_pulse", tiny_figure)
    pytest.importorskip("ipywidgets")
    box = gates.gate_widget()
    controls, readout = box.children[0].children, box.children[1]
    before = readout.value
    controls[1].value = -6.0  # input bias
    assert readout.value != before and "i = 0.002" in readout.value


def stable_sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("wrong, words", [
    (np.tanh, "tanh"),
    (lambda z: z, "did you apply the sigmoid"),
    (lambda z: 1 / (1 + np.exp(z)), "exp(-z)"),
    (lambda z: np.exp(z) / (1 + np.exp(z)), "NaN or inf"),
    (lambda z: stable_sigmoid(z).mean(), "elementwise"),
    (lambda z: stable_sigmoid(z) + 0.01, "off by"),
    (lambda z: 2 * stable_sigmoid(z), "outside (0, 1)"),
])
def test_check_gate(wrong, words):
    assert ch02.check_gate.verdict(stable_sigmoid)[0]
    ok, msg = ch02.check_gate.verdict(wrong)
    assert not ok and words in msg, msg


@pytest.mark.parametrize("wrong, words", [
    (1.0, "at least 5.24"),
    (0.995, "looks like a gate value"),
    (-3.0, "keeps f**20"),
    (40.0, "saturated"),
    (np.array([6.0, 6.0]), "one number"),
    ("six", "array of numbers"),
])
def test_check_forget_bias(wrong, words):
    assert ch02.check_forget_bias.verdict(6.0)[0]
    assert ch02.check_forget_bias.verdict(5.3)[0]
    ok, msg = ch02.check_forget_bias.verdict(wrong)
    assert not ok and words in msg, msg
