"""Chapter 05: the LSTM layer forward (cell-step widget, exercise checkers)."""

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import cells
from lstm_lib.activations import sigmoid
from lstm_lib.cells import lstm_step
from lstm_lib.course.exercises import ch05
from lstm_lib.course.widgets import layer_forward


def test_ch05_lstm_step_checker():
    assert ch05.check_lstm_step.verdict(lambda *a: lstm_step(*a))[0]
    for kwargs, words in [({"order": "ifog"}, "i, f, g, o"), ({"g_act": L.sigmoid}, "tanh"),
                          ({"use_o": False}, "output gate"), ({"use_tanh_c": False}, "squash")]:
        ok, msg = ch05.check_lstm_step.verdict(lambda *a, kw=kwargs: ch05._step_with(*a, **kw))
        assert not ok and words in msg
    ok, msg = ch05.check_lstm_step.verdict(lambda *a: (np.zeros((4, 3)), np.zeros((3, 4))))
    assert not ok and "shape (4, 3)" in msg
    ok, msg = ch05.check_lstm_step.verdict(lambda *a: lstm_step(*a)[0])
    assert not ok and "return h, c" in msg

    def stub(*a):
        raise NotImplementedError

    assert "no answer yet" in ch05.check_lstm_step.verdict(stub)[1]


def test_ch05_param_count_checker():
    assert ch05.check_param_count.verdict(5504)[0]
    assert "two bias" in ch05.check_param_count.verdict(5632)[1]
    assert "four" in ch05.check_param_count.verdict(1376)[1]
    assert "bias" in ch05.check_param_count.verdict(4 * 32 * 42)[1]
    assert "whole number" in ch05.check_param_count.verdict("many")[1]
    assert "no answer yet" in ch05.check_param_count.verdict(None)[1]


def test_cell_step_follows_the_equations():
    s = layer_forward.cell_step(x=0.7, h_prev=-0.4, c_prev=1.3, forget_bias=2.0)
    z = 0.7 * layer_forward.W_X[0] - 0.4 * layer_forward.W_H[0] + np.array([0, 2.0, 0, 0])
    assert [s[f"z_{k}"] for k in "ifgo"] == pytest.approx(z)
    assert s["i"] == pytest.approx(sigmoid(z[0])) and s["f"] == pytest.approx(sigmoid(z[1]))
    assert s["g"] == pytest.approx(np.tanh(z[2])) and s["o"] == pytest.approx(sigmoid(z[3]))
    assert s["kept"] == pytest.approx(s["f"] * 1.3) and s["written"] == pytest.approx(s["i"] * s["g"])
    assert s["c"] == pytest.approx(s["kept"] + s["written"])
    assert s["h"] == pytest.approx(s["o"] * np.tanh(s["c"]))
    h, c, _ = cells.lstm_step(np.array([[0.7]]), np.array([[-0.4]]), np.array([[1.3]]),
                              layer_forward.W_X, layer_forward.W_H, np.array([0, 2.0, 0, 0]))
    assert (s["h"], s["c"]) == pytest.approx((h[0, 0], c[0, 0]))


def test_cell_step_sliders_move_what_they_should():
    base = layer_forward.cell_step()
    # the forget bias moves only f (and through it c and h); it never touches i, g, o
    shut = layer_forward.cell_step(forget_bias=-4.0)
    assert shut["f"] < 0.1 < base["f"]
    assert (shut["i"], shut["g"], shut["o"]) == pytest.approx((base["i"], base["g"], base["o"]))
    assert abs(shut["kept"]) < abs(base["kept"])
    # the previous cell only enters through f * c_prev: the gates do not change
    other = layer_forward.cell_step(c_prev=-1.5)
    assert [other[k] for k in "ifgo"] == pytest.approx([base[k] for k in "ifgo"])
    assert other["c"] - base["c"] == pytest.approx(base["f"] * (-1.5 - 0.5))
    # a large negative input closes the input gate: almost nothing is written
    assert abs(layer_forward.cell_step(x=-3.0)["written"]) < 0.05 < abs(base["written"])


def test_cell_step_readout_and_figure():
    import matplotlib.pyplot as plt

    text = layer_forward.summary_cell_step()
    s = layer_forward.cell_step()
    assert f"{s['i']:.3f}" in text and f"{s['c']:.3f}" in text and f"{s['h']:.3f}" in text
    assert layer_forward.summary_cell_step(forget_bias=-3.0) != text
    assert layer_forward.summary_cell_step(x=2.0) != text
    fig = layer_forward.plot_cell_step()
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([s[k] for k in "ifgo"])
    plt.close(fig)


def test_cell_step_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(layer_forward, "plot_cell_step", tiny_figure)
    box = layer_forward.cell_step_widget()
    x = sliders_of(box)[0]
    before = readout_of(box)
    x.value = x.max
    assert readout_of(box) != before and x.continuous_update is False
    assert f"{layer_forward.cell_step(x=x.max)['h']:.3f}" in readout_of(box)
