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


def step_right(x, h_prev, c_prev, W_x, W_h, b, order=(0, 1, 2, 3), cand=np.tanh, gate=stable_sigmoid):
    H = h_prev.shape[1]
    z = x @ W_x + h_prev @ W_h + b
    i, f, g, o = (z[:, k * H:(k + 1) * H] for k in order)
    i, f, g, o = gate(i), gate(f), cand(g), gate(o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def _with(**kw):
    return lambda *a: step_right(*a, **kw)


def _blocks(x, h, c, W_x, W_h, b):
    H = h.shape[1]
    z = x @ W_x + h @ W_h + b
    i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
    return stable_sigmoid(i), stable_sigmoid(f), np.tanh(g), stable_sigmoid(o)


def _h_no_tanh(x, h, c, W_x, W_h, b):
    i, f, g, o = _blocks(x, h, c, W_x, W_h, b)
    new_c = f * c + i * g
    return o * new_c, new_c


def _no_input_gate(x, h, c, W_x, W_h, b):
    _, f, g, o = _blocks(x, h, c, W_x, W_h, b)
    new_c = f * c + g
    return o * np.tanh(new_c), new_c


def _no_forget_gate(x, h, c, W_x, W_h, b):
    i, _, g, o = _blocks(x, h, c, W_x, W_h, b)
    new_c = c + i * g
    return o * np.tanh(new_c), new_c


def _old_cell_in_h(x, h, c, W_x, W_h, b):
    i, f, g, o = _blocks(x, h, c, W_x, W_h, b)
    return o * np.tanh(c), f * c + i * g


@pytest.mark.parametrize("wrong, words", [
    (_with(order=(0, 2, 1, 3)), "forget gate f from block 2"),  # f and g swapped
    (_with(order=(0, 1, 3, 2)), "candidate g from block 3"),  # g and o swapped (an i, f, o, g layout)
    (_with(order=(1, 0, 2, 3)), "input gate i from block 1"),
    (_with(cand=stable_sigmoid), "candidate g went through the sigmoid"),
    (_with(gate=np.tanh), "gates went through tanh"),
    (_h_no_tanh, "h = o * c"),
    (_no_input_gate, "multiply it by the input gate"),
    (_no_forget_gate, "multiply it by the forget gate"),
    (_old_cell_in_h, "old cell c_prev"),
    (lambda x, h, c, W_x, W_h, b: step_right(x, 0 * h, c, W_x, W_h, b), "previous output is missing"),
    (lambda x, h, c, W_x, W_h, b: step_right(x, h, c, W_x, W_h, 0 * b), "bias b is missing"),
    (lambda *a: step_right(*a)[::-1], "swapped"),
    (lambda *a: step_right(*a)[0], "two arrays"),
    (lambda x, h, c, W_x, W_h, b: (x @ W_x + h @ W_h + b,) * 2, "four blocks"),
    (lambda x, h, c, W_x, W_h, b: (x @ W_x.T, c), "ValueError"),
    (lambda *a: tuple(v + 0.01 for v in step_right(*a)), "off by"),
])
def test_check_lstm_step(wrong, words):
    assert ch02.check_lstm_step.verdict(step_right)[0]
    ok, msg = ch02.check_lstm_step.verdict(wrong)
    assert not ok and words in msg, msg


def test_plot_learned_gates_shows_the_unit_and_the_answer():
    import matplotlib.pyplot as plt

    T = 20
    x = np.zeros((T, 3))
    x[[3, 10], 1], x[T - 1, 2] = 1, 1
    g = {k: np.full((T, 2), v) for k, v in zip("ifgoc", (0.1, 0.2, 0.3, 0.4, 0.5))}
    g["f"][:, 1] = 0.9
    fig = gates.plot_learned_gates(x, g, 1, np.zeros(T), np.r_[np.zeros(T - 1), 0.7])
    _, mid, low = fig.axes[:3]
    lines = {line.get_label(): line.get_ydata() for line in mid.lines}
    assert np.allclose(lines["forget gate $f$"], 0.9)  # unit 1's forget gate, not unit 0's
    star = next(line for line in low.lines if line.get_label() == "the answer at the cue")
    assert star.get_xdata()[0] == T - 1 and star.get_ydata()[0] == 0.7
    plt.close(fig)


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.activations import sigmoid
    from lstm_lib.course.exercises.solutions import failing_solutions, run_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "02_gates.ipynb"
    checks = [("lstm_step", ch02.check_lstm_step), ("forget_bias", ch02.check_forget_bias)]
    assert not failing_solutions(notebook, checks, sigmoid=sigmoid)
    # and the checks read what the folds hold: a broken fold is noticed
    namespace = run_solutions(notebook, sigmoid=sigmoid)
    assert not ch02.check_forget_bias.verdict(namespace["forget_bias"] - 1.0)[0]


def test_pulse_marker_and_gate_values_stay_distinguishable():
    """Issue 24 point 5: the pulse is a grey band (no line of its own, so no line style is shared
    with the dotted third run), and in the widget's gate panel i = o = 0.5 are two separate bars."""
    import matplotlib.pyplot as plt

    runs = [(f"run {k}", gates.pulse_traces(b)) for k, b in enumerate((6.0, 2.0, -6.0))]
    fig = gates.plot_traces(runs, keys=("c",))
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and [line.get_linestyle() for line in ax.lines] == ["-", "--", ":"]
    band = [p for p in ax.patches if "input pulse" in p.get_label()]
    assert len(band) == 1 and "dotted" not in ax.get_xlabel()
    plt.close(fig)
    fig = gates.plot_pulse(forget_bias=2.0, input_bias=0.0, output_bias=0.0)
    bars = [p for p in fig.axes[1].patches]
    assert len(bars) == 3 and len({round(b.get_y(), 6) for b in bars}) == 3  # one row per gate
    assert [round(b.get_width(), 3) for b in bars] == [0.5, 0.881, 0.5]  # i, f, o
    assert len({b.get_facecolor() for b in bars}) == 3
    plt.close(fig)
