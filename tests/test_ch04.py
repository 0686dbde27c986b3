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
    assert "LSTM" in text and "(survives)" in text and "(vanished)" in text


def test_highway_widget_builds(monkeypatch, tiny_figure):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(highway, "plot_survival", tiny_figure)
    box = highway.highway_widget()
    controls, readout = box.children[0].children, box.children[1]
    controls[0].value = 0.0
    assert "forget bias 0.0" in readout.value


def norms_right(caches, dh_T):
    dh, dc = dh_T, np.zeros_like(dh_T)
    norms = [np.linalg.norm(dh)]
    for cache in reversed(caches):
        _, dh, dc, *_ = L.cells.lstm_step_backward(dh, dc, cache)
        norms.append(np.linalg.norm(dh))
    return np.array(norms[::-1])


def test_hidden_gradient_norms_reference_is_the_layers_gradient():
    """The checker's answer at h_0 is what the library layer's backward delivers."""
    W_x, W_h, b, x, dh_T = ch04.lstm_network()
    layer = L.LSTM(2, 3, dtype=np.float64)
    for name, w in (("W_x", W_x), ("W_h", W_h), ("b", b)):
        layer.params[name][...] = w
    out = layer.forward(x)
    d = np.zeros_like(out)
    d[:, -1] = dh_T
    layer.backward(d)
    caches, _ = ch04.lstm_case()
    assert norms_right(caches, dh_T)[0] == pytest.approx(np.linalg.norm(layer.dstate0[0]), rel=1e-12)


def _walk(key, **kw):
    def answer(caches, dh_T):
        seen = ch04.walk_back(caches, dh_T, **kw)
        return np.array(seen[key][::-1] + ([np.linalg.norm(dh_T)] if key != "dh" else []))
    return answer


@pytest.mark.parametrize("wrong, words", [
    (lambda c, d: norms_right(c, d)[::-1], "backwards in time"),
    (lambda c, d: norms_right(c, d) / np.linalg.norm(d), "divided by ||dh_T||"),
    (_walk("dh", carry_c=False), "h path alone"),
    (_walk("dh", carry_h=False), "do not pass dh_prev back"),
    (_walk("dc"), "norms of dc_prev"),
    (_walk("dx"), "norms of dx"),
    (lambda c, d: norms_right(c, d)[1:], "return T + 1"),
    (lambda c, d: norms_right(c, d)[:, None], "shape (7, 1)"),
    (lambda c, d: 2 * norms_right(c, d), "off by"),
])
def test_check_hidden_gradient_norms(wrong, words):
    assert ch04.check_hidden_gradient_norms.verdict(norms_right)[0]
    ok, msg = ch04.check_hidden_gradient_norms.verdict(wrong)
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


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "04_cell_highway.ipynb"
    checks = [("hidden_gradient_norms", ch04.check_hidden_gradient_norms),
              ("survival_steps", ch04.check_survival_steps)]
    assert not failing_solutions(notebook, checks, lstm_step_backward=L.cells.lstm_step_backward)
