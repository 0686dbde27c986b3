"""Chapter 04: the cell-state highway (measurements, widget, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course.exercises import ch04
from lstm_lib.course.widgets import highway


def test_backward_with_nothing_cut_is_the_layers_backward():
    x, u = highway.inputs(20, hidden=4, batch=3)
    lstm = L.LSTM(1, 4, dtype=np.float64, rng=np.random.default_rng(0))
    out = lstm.forward(x)
    d = np.zeros_like(out)
    d[:, -1] = u
    dx_layer = lstm.backward(d)
    dx, (dh0, dc0) = highway.backward(highway.lstm_caches(lstm, x), u, np.zeros_like(u))
    assert np.allclose(dx, dx_layer, rtol=1e-10, atol=1e-300)
    assert np.allclose(dc0, lstm.dstate0[1]) and np.allclose(dh0, lstm.dstate0[0])


def test_highway_alone_is_the_product_of_forget_gates():
    """Cut h in the backward pass only: dL/dc_0 for L = u . c_T is u * prod_t f_t, exactly,
    for a network whose recurrent weights are not zero."""
    x, u = highway.inputs(30, hidden=4, batch=3)
    lstm = L.LSTM(1, 4, dtype=np.float64, rng=np.random.default_rng(0))
    assert np.abs(lstm.params["W_h"]).max() > 0.1
    caches = highway.lstm_caches(lstm, x)
    f = np.array([cache.f for cache in caches])
    _, (_, dc0) = highway.backward(caches, np.zeros_like(u), u, through_h=False)
    assert np.allclose(dc0, u * np.prod(f, axis=0), rtol=1e-12, atol=0)
    _, (_, dc0_full) = highway.backward(caches, np.zeros_like(u), u)
    assert not np.allclose(dc0_full, dc0)  # with h the gradient takes other routes as well


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


def test_path_ablation_parts_add_up_to_one_networks_gradient():
    a = highway.path_ablation(3.0, 60, hidden=8, batch=4)
    assert np.allclose(a["both"][:, :-1], (a["highway"] + a["h"] + a["mixed"])[:, :-1])
    # at the last step both cut passes equal the full one (nothing has been cut yet)
    assert np.allclose(a["highway"][:, -1], a["both"][:, -1]) and np.allclose(a["h"][:, -1], a["both"][:, -1])
    first = {k: highway.batch_norms(a[k])[0] for k in ("both", "highway", "h", "mixed")}
    assert first["both"] > first["highway"] > first["h"]
    assert a["f"].shape == (60, 4, 8)


def test_highway_plot_summary_widget():
    import matplotlib.pyplot as plt

    fig = highway.plot_survival(1.0, 50)
    assert len(fig.axes[0].lines) == 3
    plt.close(fig)
    text = highway.summary_survival(1.0, 100)
    assert "LSTM" in text and "(survives)" in text and "(lost in a float32 sum)" in text


def test_highway_widget_builds(monkeypatch, tiny_figure):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(highway, "plot_survival", tiny_figure)
    box = highway.highway_widget()
    controls, readout = box.children[0].children, box.children[1]
    controls[0].value = 0.0
    assert "forget bias 0.0" in readout.value


def test_reference_walk_is_the_layers_backward():
    """The checker's reference walk, nothing cut, is what the library layer's backward delivers."""
    W_x, W_h, b, x, dh_T = ch04.lstm_network()
    layer = L.LSTM(2, 3, dtype=np.float64)
    for name, w in (("W_x", W_x), ("W_h", W_h), ("b", b)):
        layer.params[name][...] = w
    out = layer.forward(x)
    d = np.zeros_like(out)
    d[:, -1] = dh_T
    dx_layer = layer.backward(d)
    caches, _, _ = ch04.lstm_case()
    dx, (dh0, _dc0) = ch04.walk(caches, dh_T, np.zeros_like(dh_T))
    assert np.allclose(dx, dx_layer, rtol=1e-12) and np.allclose(dh0, layer.dstate0[0], rtol=1e-12)
    for through_h, through_c in ch04.CUTS:  # and the chapter's copy in the widget module agrees
        ours, theirs = (fn(caches, dh_T, dh_T * 0.3, through_h=through_h, through_c=through_c)
                        for fn in (ch04.walk, highway.backward))
        assert np.allclose(ours[0], theirs[0], rtol=1e-12)


def slipped_backward(slip):
    def backward(caches, dh, dc, through_h=True, through_c=True):
        return ch04.walk(caches, dh, dc, through_h, through_c, slip=slip)
    return backward


def right_backward(caches, dh, dc, through_h=True, through_c=True):
    dx = []
    for cache in reversed(caches):
        dx_t, dh_prev, dc_prev, *_ = L.cells.lstm_step_backward(dh, dc, cache)
        dx.append(dx_t)
        dh = dh_prev if through_h else np.zeros_like(dh_prev)
        dc = dc_prev if through_c else np.zeros_like(dc_prev)
    return np.stack(dx[::-1], axis=1), (dh, dc)


@pytest.mark.parametrize("wrong, words", [
    (slipped_backward("reversed"), "backwards in time"),
    (slipped_backward("cuts_swapped"), "cuts are swapped"),
    (slipped_backward("cut_at_start"), "arriving at the last step as well"),
    (slipped_backward("no_carry"), "carry its dh_prev and dc_prev back"),
    (slipped_backward("state_swapped"), "you return (dc_0, dh_0)"),
    (lambda c, dh, dc, through_h=True, through_c=True: (
        np.stack([L.cells.lstm_step_backward(dh, dc, k)[0] for k in c]), (dh, dc)), "time first"),
    (lambda c, dh, dc, through_h=True, through_c=True: right_backward(c, dh, dc, through_h, through_c)[0],
     "return dx, (dh_0, dc_0)"),
    (lambda c, dh, dc, through_h=True, through_c=True: (
        2 * right_backward(c, dh, dc, through_h, through_c)[0],
        right_backward(c, dh, dc, through_h, through_c)[1]), "off by"),
])
def test_check_backward_names_each_slip(wrong, words):
    assert ch04.check_backward.verdict(right_backward)[0]
    ok, msg = ch04.check_backward.verdict(wrong)
    assert not ok and words in msg, msg


def right_share(caches, dh_T):
    zero = np.zeros_like(dh_T)
    both = right_backward(caches, dh_T, zero)[0][:, 0]
    highway_ = right_backward(caches, dh_T, zero, through_h=False)[0][:, 0]
    h_path = right_backward(caches, dh_T, zero, through_c=False)[0][:, 0]
    return np.linalg.norm(both - highway_ - h_path) / np.linalg.norm(both)


@pytest.mark.parametrize("slip, words", [
    ("no_h_path", "not the h path"),
    ("pure_share", "share of the two pure routes"),
    ("last_step", "at the last step"),
    ("upside_down", "upside down"),
    ("norms_subtracted", "you subtracted norms"),
])
def test_check_mixed_share_names_each_slip(slip, words):
    assert ch04.check_mixed_share.verdict(right_share)[0]
    ok, msg = ch04.check_mixed_share.verdict(lambda caches, dh_T: ch04.share(caches, dh_T, slip=slip))
    assert not ok and words in msg, msg
    ok, msg = ch04.check_mixed_share.verdict(lambda caches, dh_T: [0.5, 0.5])
    assert not ok and "one number" in msg, msg
    ok, msg = ch04.check_mixed_share.verdict(lambda caches, dh_T: 0.5)
    assert not ok and "expected" in msg, msg


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "04_cell_highway.ipynb"
    checks = [("backward", ch04.check_backward), ("mixed_share", ch04.check_mixed_share)]
    assert not failing_solutions(notebook, checks)
