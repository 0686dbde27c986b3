"""Chapter 08: debugging (update-ratio widget, exercise checkers)."""

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import diagnostics
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.course.exercises import ch08
from lstm_lib.course.widgets import debugging

X64 = np.random.default_rng(0).standard_normal((2, 5, 3))  # batch 2, time 5, input 3 (hidden 4)





def test_ch08_tool_match_checker():
    good = {"random_init_grads": "gradient_check", "optimiser_never_steps": "update_ratio",
            "missing_sigmoid_grad": "gradient_check", "dc_not_carried": "gradient_check",
            "transposed_weight": "shape_check"}
    assert ch08.check_tool_match.verdict(good)[0]
    ok, msg = ch08.check_tool_match.verdict({**good, "optimiser_never_steps": "gradient_check"})
    assert not ok and "optimiser" in msg
    ok, msg = ch08.check_tool_match.verdict({**good, "missing_sigmoid_grad": "overfit_test"})
    assert not ok and "still memorised" in msg
    assert "no tool chosen yet" in ch08.check_tool_match.verdict({b: None for b in ch08.BUGS})[1]
    assert "not one of the tools" in ch08.check_tool_match.verdict({**good, "dc_not_carried": "luck"})[1]
    assert "no tool given" in ch08.check_tool_match.verdict({"random_init_grads": "gradient_check"})[1]


def test_ch08_tool_match_agrees_with_the_tools():
    """The checker's answer key is what the tools measure: the gradient check flags each
    gradient bug, the update ratio the optimiser bug, the shape check the transposed weight."""
    for bug in ("random_init_grads", "missing_sigmoid_grad", "dc_not_carried"):
        assert "gradient_check" in ch08.CATCHES[bug]
        cls = bugs.BROKEN_LAYERS[bug]
        assert not L.gradient_check(cls(3, 4, dtype=np.float64), X64).passed
    assert not diagnostics.shape_check(bugs.BROKEN_LAYERS["transposed_weight"]).passed


def test_ch08_change_ratio_checker():
    assert ch08.check_change_ratio.verdict(lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(b))[0]
    assert "||before||" in ch08.check_change_ratio.verdict(
        lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(a))[1]
    assert "size of the change alone" in ch08.check_change_ratio.verdict(
        lambda b, a: np.linalg.norm(a - b))[1]
    assert "one number" in ch08.check_change_ratio.verdict(lambda b, a: np.abs(a - b) / np.abs(b))[1]
    assert "elementwise" in ch08.check_change_ratio.verdict(
        lambda b, a: np.mean(np.abs(a - b) / np.abs(b)))[1]


def test_never_stepping_optimiser_has_zero_ratios_at_every_rate():
    for log10_lr in (-4.0, -2.0, 0.0):
        r = debugging.update_ratio_run(log10_lr)
        assert all(v == 0.0 for v in r["never_steps"].values())
        assert np.all(r["loss_never_steps"] == r["loss_never_steps"][0])
        assert all(v > 0 for v in r["correct"].values())


def test_ratios_scale_with_the_learning_rate():
    """A small SGD step moves each weight by lr * ||grad|| / ||p||: ten times the learning rate
    gives (nearly) ten times the ratio while the steps are small."""
    small, big = debugging.update_ratio_run(-4.0), debugging.update_ratio_run(-3.0)
    for name, v in small["correct"].items():
        if np.isfinite(v):
            assert big["correct"][name] / v == pytest.approx(10.0, rel=0.02)
    assert small["lr"] == 1e-4 and debugging.learning_rate(-2.5) == 0.00316
    # the output bias starts at zero: no size to compare with, marked inf as update_ratios does
    assert small["correct"]["1.b"] == np.inf and small["never_steps"]["1.b"] == 0.0


def test_ratios_match_diagnostics_on_the_last_step():
    r = debugging.update_ratio_run(-2.0, steps=1)
    from lstm_lib.base import Sequential
    from lstm_lib.layers import Linear
    from lstm_lib.losses import MSELoss
    from lstm_lib.lstm import LSTM
    from lstm_lib.optim import SGD

    rng = np.random.default_rng(0)
    model = Sequential(LSTM(1, 8, rng=rng), Linear(8, 1, rng=rng))
    x, y = debugging.sine_wave()
    report = diagnostics.update_ratio_check(model, MSELoss(), SGD(model, 0.01), x, y)
    assert r["correct"] == pytest.approx(report.ratios)


def test_debugging_readout_and_figure():
    import matplotlib.pyplot as plt

    text = debugging.summary_update_ratios(-2.0)
    r = debugging.update_ratio_run(-2.0)
    assert f"{r['correct']['0.W_x']:.1e}" in text and "in the band" in text
    assert "NoStepSGD: 0.W_x 0" in text
    high = debugging.summary_update_ratios(0.0)
    assert high != text and "too large" in high
    fig = debugging.plot_update_ratios(-2.0)
    blue = [p.get_height() for p in fig.axes[0].patches if p.get_width() == pytest.approx(0.4)][:4]
    assert blue == pytest.approx([r["correct"][k] for k in ("0.W_x", "0.W_h", "0.b", "1.W")])
    plt.close(fig)


def test_debugging_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(debugging, "plot_update_ratios", tiny_figure)
    box = debugging.update_ratio_widget()
    lr = sliders_of(box)[0]
    before = readout_of(box)
    lr.value = lr.min
    assert readout_of(box) != before and "learning rate 0.0001" in readout_of(box)
    assert lr.continuous_update is False
