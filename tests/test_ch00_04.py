"""Tests for chapters 00-04: the environment check, the widgets' compute functions and the
exercise self-checks (each fed a correct answer and typical wrong ones)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course import environment
from lstm_lib.course.exercises import ch01, ch02, ch03, ch04
from lstm_lib.course.widgets import candidate, gates, highway
from lstm_lib.course.widgets import rnn_gradients as rg


def tiny_figure(**values):
    """Stands in for a widget's plot function when only the wiring is tested (drawing is slow)."""
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(1, 1))


# --- chapter 00: environment check --------------------------------------------------------


def test_environment_report_lists_installed_versions():
    report = environment.check_environment()
    assert report.versions["numpy"] == np.__version__
    assert report.ok and report.missing == []
    text = str(report)
    assert "numpy" in text and np.__version__ in text and "widgets" in text
    assert report.colab is False  # the tests never run in Colab


@pytest.mark.parametrize("ipyw, front, colab, kernel, ok, word", [
    (None, None, False, True, False, "not installed"),
    ("7.5.1", "1.1.0", False, True, False, "too old"),
    ("8.1.5", "3.0.9", False, False, False, "kernel"),
    ("7.7.1", None, True, True, True, "Colab"),
    ("8.1.5", None, False, True, False, "jupyterlab_widgets"),
    ("8.1.5", "1.1.0", False, True, False, "3.x"),
    ("7.7.1", "1.1.7", False, True, True, "will work"),
    ("8.1.5", "3.0.9", False, True, True, "will work"),
])
def test_widget_support_says_why(ipyw, front, colab, kernel, ok, word):
    got, reason = environment.widget_support(ipyw, front, colab, kernel)
    assert got is ok
    assert word in reason


def test_report_not_ok_names_missing_package():
    report = environment.EnvironmentReport(python="3.11.0", versions={"numpy": "2.0", "matplotlib": None,
                                                                      "ipywidgets": "8.1"})
    assert not report.ok and report.missing == ["matplotlib"]
    assert "missing matplotlib" in str(report)
    assert not environment.EnvironmentReport(python="3.8.10", versions={}).python_ok


def test_demo_widget(monkeypatch):
    import matplotlib.pyplot as plt

    fig = environment.plot_demo_sigmoid(2.0)
    assert fig.axes[0].lines[0].get_ydata()[-1] == pytest.approx(1 / (1 + np.exp(-12.0)))
    plt.close(fig)
    assert "0.881" in environment.summary_demo_sigmoid(2.0)
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(environment, "plot_demo_sigmoid", tiny_figure)
    box = environment.demo_widget()
    slope, readout = box.children[0].children[0], box.children[1]
    slope.value = 3.0
    assert "slope 3.0" in readout.value and slope.continuous_update is False


def test_demo_checker():
    check = environment.check_demo_mean.verdict
    assert check(lambda x, axis: x.sum(axis=axis) / x.shape[axis])[0]
    ok, msg = check(lambda x, axis: x.sum(axis=axis))
    assert not ok and "sum" in msg
    ok, msg = check(lambda x, axis: x.sum(axis=axis) / x.shape[1 - axis])
    assert not ok and "other axis" in msg
    ok, msg = check(lambda x, axis: x.mean(axis=1 - axis))
    assert not ok and "other axis" in msg
    ok, msg = check(lambda x, axis: 1 / 0)
    assert not ok and "ZeroDivisionError" in msg

    def stub(x, axis):
        raise NotImplementedError

    ok, msg = check(stub)
    assert not ok and "NotImplementedError" in msg


# --- chapter 01: RNN gradients ------------------------------------------------------------


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


def test_rnn_gradient_widget_builds(monkeypatch):
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


# --- chapter 02: gates ----------------------------------------------------------------------



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


def test_gate_widget_builds(monkeypatch):
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


# --- chapter 03: the candidate --------------------------------------------------------------


def test_candidate_write_follows_the_formula():
    w = candidate.candidate_write(1.0, w_g=1.5, w_i=2.0, b_i=0.0, c_prev=0.5)
    assert float(w["g"]) == pytest.approx(np.tanh(1.5))
    assert float(w["i"]) == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert float(w["c"]) == pytest.approx(0.5 + np.tanh(1.5) / (1 + np.exp(-2.0)))
    # a negative input subtracts; flipping the candidate weight flips the sign of the write
    assert float(candidate.candidate_write(-1.0)["change"]) < 0
    flipped = candidate.candidate_write(1.0, w_g=-1.5)
    assert float(flipped["change"]) == pytest.approx(-float(w["change"]) * 1.0)
    # a shut input gate writes (almost) nothing however strong the proposal
    shut = candidate.candidate_write(3.0, w_g=3.0, w_i=0.0, b_i=-8.0)
    assert abs(float(shut["g"])) > 0.99 and abs(float(shut["change"])) < 1e-3
    grid = candidate.candidate_write(np.linspace(-50, 50, 101))
    assert np.abs(grid["g"]).max() <= 1 and np.abs(grid["change"]).max() <= 1


def test_cell_walk_tanh_goes_both_ways_sigmoid_only_up():
    up_down = np.diff(candidate.cell_walk("tanh", 100))
    only_up = np.diff(candidate.cell_walk("sigmoid", 100))
    assert (up_down > 0).any() and (up_down < 0).any()
    assert (only_up > 0).all()


def test_candidate_plots_summary_widget():
    import matplotlib.pyplot as plt

    for fig in (candidate.plot_candidate(x=-2.0), candidate.plot_tanh_vs_sigmoid(),
                candidate.plot_cell_walks(50)):
        assert fig.axes
        plt.close(fig)
    assert "adds to" in candidate.summary_candidate(x=1.0)
    assert "subtracts from" in candidate.summary_candidate(x=-1.0)


def test_candidate_widget_builds(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(candidate, "plot_candidate", tiny_figure)
    box = candidate.candidate_widget()
    controls, readout = box.children[0].children, box.children[1]
    controls[0].value = -2.0
    assert "subtracts from" in readout.value


def cand_right(x, h, W_x, W_h, b):
    H = h.shape[1]
    return np.tanh((x @ W_x + h @ W_h + b)[:, 2 * H:3 * H])


def _z(x, h, W_x, W_h, b):
    return x @ W_x + h @ W_h + b


@pytest.mark.parametrize("wrong, words", [
    (lambda x, h, W_x, W_h, b: np.tanh(_z(x, h, W_x, W_h, b)[:, 4:8]), "forget gate f"),
    (lambda x, h, W_x, W_h, b: np.tanh(_z(x, h, W_x, W_h, b)[:, 0:4]), "input gate i"),
    (lambda x, h, W_x, W_h, b: np.tanh(_z(x, h, W_x, W_h, b)[:, 12:16]), "output gate o"),
    (lambda x, h, W_x, W_h, b: L.sigmoid(_z(x, h, W_x, W_h, b)[:, 8:12]), "sigmoid"),
    (lambda x, h, W_x, W_h, b: _z(x, h, W_x, W_h, b)[:, 8:12], "apply tanh"),
    (lambda x, h, W_x, W_h, b: np.tanh(_z(x, h, W_x, W_h, b)), "candidate block only"),
    (lambda x, h, W_x, W_h, b: np.tanh(x @ W_x[:, 8:12] + b[8:12]), "h_prev is missing"),
    (lambda x, h, W_x, W_h, b: np.tanh(_z(x, h, W_x, W_h, b)[:, 8:12]).T, "shape (4, 2)"),
])
def test_check_candidate(wrong, words):
    assert ch03.check_candidate.verdict(cand_right)[0]
    ok, msg = ch03.check_candidate.verdict(wrong)
    assert not ok and words in msg, msg


@pytest.mark.parametrize("wrong, words", [
    (lambda c, f, i, g: f * c + g, "multiply it by the input gate"),
    (lambda c, f, i, g: c + i * g, "multiply it by the forget gate"),
    (lambda c, f, i, g: f * c + i, "input gate itself"),
    (lambda c, f, i, g: i * c + f * g, "swapped"),
    (lambda c, f, i, g: np.tanh(f * c + i * g), "squashed"),
    (lambda c, f, i, g: f * c * i * g, "added, not multiplied"),
    (lambda c, f, i, g: (1 - f) * c + i * g, "(1 - f)"),
    (lambda c, f, i, g: (f * c + i * g).sum(), "elementwise"),
])
def test_check_cell_update(wrong, words):
    assert ch03.check_cell_update.verdict(lambda c, f, i, g: f * c + i * g)[0]
    ok, msg = ch03.check_cell_update.verdict(wrong)
    assert not ok and words in msg, msg


# --- chapter 04: the highway ----------------------------------------------------------------


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


def test_highway_widget_builds(monkeypatch):
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
