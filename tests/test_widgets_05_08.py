"""Tests for the widgets of chapters 05, 06 and 08: the compute functions follow the math when a
slider moves, the readout text changes with the sliders, the figures draw, and the widgets wire
their sliders (continuous_update off) to the readout."""
import numpy as np
import pytest

from lstm_lib import cells, diagnostics
from lstm_lib.activations import sigmoid
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.course.widgets import bptt, debugging, layer_forward


def tiny_figure(**values):
    """Stands in for a widget's plot function when only the wiring is tested (drawing is slow)."""
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(1, 1))


def readout_of(box):
    return box.children[1].value


def sliders_of(box):
    return box.children[0].children


# --- chapter 05: one cell step ----------------------------------------------------------------

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


def test_cell_step_widget_wiring(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(layer_forward, "plot_cell_step", tiny_figure)
    box = layer_forward.cell_step_widget()
    x = sliders_of(box)[0]
    before = readout_of(box)
    x.value = x.max
    assert readout_of(box) != before and x.continuous_update is False
    assert f"{layer_forward.cell_step(x=x.max)['h']:.3f}" in readout_of(box)


# --- chapter 06: dc back through time -----------------------------------------------------------

def test_forget_gate_is_pinned():
    r = bptt.cell_gradients(forget=0.73, length=12)
    assert r["forget_values"] == pytest.approx(0.73, abs=1e-12)
    assert sigmoid(bptt.forget_logit(1.0)) == 1.0
    with pytest.raises(ValueError, match="forget"):
        bptt.forget_logit(0.0)


@pytest.mark.parametrize("forget", [1.0, 0.5, 0.8])
def test_carried_gradient_is_a_power_of_f_on_the_pure_highway(forget):
    """Without recurrent weights the cell path is the only way back: dc_{t-1} = f dc_t exactly;
    f = 1 does not decay at all, f = 0.5 halves per step. Cut, nothing gets back."""
    r = bptt.cell_gradients(forget=forget, length=30, recurrent_scale=0.0)
    assert r["carried"] == pytest.approx(forget ** np.arange(29, -1, -1), rel=1e-9)
    assert r["carried"][:-1] / r["carried"][1:] == pytest.approx(forget, rel=1e-9)
    assert np.all(r["cut"][:-1] == 0.0) and r["cut"][-1] == 1.0


def test_without_the_carry_the_gradient_dies_with_recurrent_weights():
    """With W_h the gradient still reaches earlier steps without the carry, through h, but far
    less: much less than with the carry, and less the longer the sequence."""
    r = bptt.cell_gradients(forget=1.0, length=40, recurrent_scale=0.5)
    assert 0 < r["cut"][0] < 1e-10 and r["carried"][0] > 0.5
    assert np.all(r["cut"][:-1] < r["carried"][:-1])
    assert bptt.cell_gradients(1.0, 80)["cut"][0] < r["cut"][0]
    # smaller forget gate: less is carried (matches f^k on the pure highway, above)
    assert bptt.cell_gradients(0.6, 40)["carried"][0] < bptt.cell_gradients(0.9, 40)["carried"][0]


def test_matches_the_library_layer_and_the_bug_layer():
    """The hand loop's dL/dc_0 equals what the readable library layer (ReferenceLSTM, tested
    equal to L.LSTM) reports in dstate0, and NoCarryLSTM's, 0, equals the cut one."""
    T = 10
    W_x, W_h, b, x, u = bptt.network(forget=0.9, length=T, recurrent_scale=0.5)
    r = bptt.cell_gradients(forget=0.9, length=T, recurrent_scale=0.5)
    dh = np.zeros((1, T, 8))
    dh[:, -1] = u
    for cls, key in ((bugs.ReferenceLSTM, "dc0_carried"), (bugs.NoCarryLSTM, "dc0_cut")):
        layer = cls(1, 8, dtype=np.float64)
        layer.params["W_x"][...], layer.params["W_h"][...], layer.params["b"][...] = W_x, W_h, b
        layer.forward(x)
        layer.backward(dh)
        assert layer.dstate0[1][0] == pytest.approx(r[key], rel=1e-10, abs=1e-300)
    assert np.linalg.norm(r["dc0_carried"]) > 0 and np.all(r["dc0_cut"] == 0)


def test_bptt_readout_and_figure():
    import matplotlib.pyplot as plt

    text = bptt.summary_cell_gradients(0.9, 50)
    r = bptt.cell_gradients(0.9, 50)
    assert f"{r['carried'][0]:.2e}" in text and f"{r['cut'][0]:.2e}" in text
    assert bptt.summary_cell_gradients(0.5, 50) != text
    assert "exactly 0" in bptt.summary_cell_gradients(1.0, 20, recurrent_scale=0.0)
    assert "underflow" in bptt.summary_cell_gradients(0.9, 200, recurrent_scale=0.5)
    fig = bptt.plot_cell_gradients(0.9, 50)
    assert len(fig.axes[0].lines) == 3 and fig.axes[0].get_yscale() == "log"
    plt.close(fig)


def test_bptt_widget_wiring(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(bptt, "plot_cell_gradients", tiny_figure)
    box = bptt.bptt_widget()
    forget, length, scale = sliders_of(box)
    before = readout_of(box)
    forget.value = forget.max
    assert readout_of(box) != before and "f = 1.00" in readout_of(box)
    length.value = 20
    assert "T = 20" in readout_of(box)
    assert not any(s.continuous_update for s in (forget, length, scale))


# --- chapter 08: update ratios vs learning rate ---------------------------------------------------

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


def test_debugging_widget_wiring(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(debugging, "plot_update_ratios", tiny_figure)
    box = debugging.update_ratio_widget()
    lr = sliders_of(box)[0]
    before = readout_of(box)
    lr.value = lr.min
    assert readout_of(box) != before and "learning rate 0.0001" in readout_of(box)
    assert lr.continuous_update is False
