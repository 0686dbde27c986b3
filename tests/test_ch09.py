"""Chapter 09: the GRU (update-gate widget, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.activations import sigmoid
from lstm_lib.cells import gru_step
from lstm_lib.course.exercises import ch09
from lstm_lib.course.widgets import gru as gru_widget


def test_update_gate_trace_decays_like_z_to_the_k():
    for z_bias in (0.0, 3.0, 6.0):
        tr = gru_widget.update_gate_trace(z_bias, steps=40, pulse_at=5)
        assert tr["h"][:5].max() == 0  # nothing before the pulse
        assert tr["h"][5] > 0.97  # the pulse is written
        k = np.arange(35)
        np.testing.assert_allclose(tr["survival"][5:], sigmoid(z_bias) ** k, rtol=1e-10)
        assert np.isnan(tr["survival"][:5]).all()


def test_half_life_and_summary():
    assert gru_widget.half_life(0.0) == pytest.approx(1.0)
    z = sigmoid(3.0)
    assert z ** gru_widget.half_life(3.0) == pytest.approx(0.5)
    text = gru_widget.update_gate_summary(3.0, steps=60)
    assert "0.953" in text and "half-life 14.3" in text
    with pytest.raises(ValueError):
        gru_widget.update_gate_trace(1.0, steps=10, pulse_at=12)


def test_update_gate_plot_draws():
    import matplotlib

    matplotlib.use("Agg")
    fig = gru_widget.plot_update_gate(2.0, 30)
    assert len(fig.axes) == 2


def test_check_gru_step_accepts_right_and_names_mistakes():
    p = ch09.exercise_gru_inputs()
    h, _ = gru_step(**p)
    assert ch09.check_gru_step.verdict(h)[0]
    assert not ch09.check_gru_step.verdict(None)[0]
    messages = {}
    for wrong, expected in ch09._variants(**p):
        ok, msg = ch09.check_gru_step.verdict(wrong)
        assert not ok and msg == expected
        messages[expected] = msg
    assert any("swapped" in m for m in messages) and any("Cho" in m for m in messages)
    ok, msg = ch09.check_gru_step.verdict(h[:, :3])
    assert not ok and "shape" in msg
    ok, msg = ch09.check_gru_step.verdict(h + 0.01)
    assert not ok and "off by" in msg


def test_check_gru_param_count():
    import torch

    right = sum(p.numel() for p in torch.nn.GRU(10, 20).parameters())
    assert ch09.check_gru_param_count.verdict(right)[0]
    ok, msg = ch09.check_gru_param_count.verdict(4 * 20 * 32)
    assert not ok and "LSTM" in msg
    ok, msg = ch09.check_gru_param_count.verdict(3 * 20 * 30)
    assert not ok and "biases are missing" in msg
    ok, msg = ch09.check_gru_param_count.verdict(L.GRU(10, 20).num_params())
    assert not ok and "lstm_lib" in msg
    ok, msg = ch09.check_gru_param_count.verdict(12.5)
    assert not ok and "whole number" in msg


def test_check_half_life():
    assert ch09.check_half_life.verdict(np.log(0.5) / np.log(0.95))[0]
    ok, msg = ch09.check_half_life.verdict(np.log(0.5) / np.log(0.05))
    assert not ok and "1 - z" in msg
    ok, msg = ch09.check_half_life.verdict(10.0)
    assert not ok and "geometric" in msg
