"""Chapter 06: backpropagation through time (dc-through-time widget, exercise checkers)."""

import numpy as np
import pytest

from lstm_lib.activations import sigmoid
from lstm_lib.cells import lstm_step_backward
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.course.exercises import ch06
from lstm_lib.course.widgets import bptt


def test_ch06_step_backward_checker():
    assert ch06.check_step_backward.verdict(lstm_step_backward)[0]
    for kwargs, words in [({"carry": False}, "dc arriving"), ({"skip_sigmoid": "f"}, "forget gate"),
                          ({"skip_sigmoid": "o"}, "output gate"), ({"skip_tanh_c": True}, "tanh(c)")]:
        ok, msg = ch06.check_step_backward.verdict(
            lambda dh, dc, cache, kw=kwargs: ch06._variant(dh, dc, cache, **kw))
        assert not ok and words in msg

    def wrong_db(dh, dc, cache):
        r = list(lstm_step_backward(dh, dc, cache))
        r[5] = r[5] * 2
        return r

    ok, msg = ch06.check_step_backward.verdict(wrong_db)
    assert not ok and msg.startswith("db is wrong")
    assert "six arrays" in ch06.check_step_backward.verdict(lambda *a: (1, 2))[1]


def test_ch06_highway_checker():
    assert ch06.check_highway_factor.verdict(np.prod(ch06.FORGET))[0]
    assert "product" in ch06.check_highway_factor.verdict(ch06.FORGET.sum())[1]
    assert "one step" in ch06.check_highway_factor.verdict(ch06.FORGET[-1])[1]
    assert "derivative" in ch06.check_highway_factor.verdict(
        np.prod(ch06.FORGET * (1 - ch06.FORGET)))[1]


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


def test_bptt_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
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
