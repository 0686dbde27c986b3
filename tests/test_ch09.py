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


def test_cho_step_backward_matches_finite_differences():
    from lstm_lib.gradcheck import numerical_gradient

    (x, h, W_x, W_h, b), dh = ch09.cho_inputs()
    _, cache = ch09.cho_step(x, h, W_x, W_h, b)
    grads = ch09.cho_backward(dh, cache)
    for arr, g in zip((x, h, W_x, W_h, b), grads):
        numeric = numerical_gradient(lambda: float(np.sum(ch09.cho_step(x, h, W_x, W_h, b)[0] * dh)), arr)
        np.testing.assert_allclose(g, numeric, atol=1e-8)
    # Cho's candidate is not torch's: the same weights give another step
    h_torch, _ = gru_step(x, h, W_x, W_h, b, np.zeros(h.shape[1]))
    assert np.abs(h_torch - ch09.cho_step(x, h, W_x, W_h, b)[0]).max() > 0.05


def test_check_cho_backward_names_each_mistake():
    check = ch09.check_cho_backward.verdict
    assert check(ch09.cho_backward)[0]
    assert check(None)[1].startswith("no answer")
    planted = {"torch_form": "torch's candidate", "reset_into_h": "ds * r, not ds",
               "reset_into_dW": "W_hn multiplies s", "direct": "direct path",
               "through_tanh": "tanh derivative"}
    for switch, words in planted.items():
        value = switch == "torch_form"  # the others are True when right
        ok, msg = check(lambda dh, c, s=switch, v=value: ch09.cho_backward(dh, c, **{s: v}))
        assert not ok and words in msg, (switch, msg)
    ok, msg = check(lambda dh, c: ch09.cho_backward(dh, c, reset_into_h=False, reset_into_dW=False))
    assert not ok and "missing twice" in msg
    ok, msg = check(lambda dh, c: ch09.cho_backward(dh, c._replace(z=1 - c.z)))
    assert not ok and "swapped" in msg

    def db_wrong(dh, c):
        grads = list(ch09.cho_backward(dh, c))
        grads[4] = grads[4] * 2
        return grads
    ok, msg = check(db_wrong)
    assert not ok and msg.startswith("db is wrong")
    ok, msg = check(lambda dh, c: ch09.cho_backward(dh, c)[:4])
    assert not ok and "five arrays" in msg
    ok, msg = check(lambda dh, c: [g.T for g in ch09.cho_backward(dh, c)])
    assert not ok and "shape" in msg


def test_gru_hidden_like_lstm_and_its_checker():
    assert ch09.gru_hidden_like_lstm(2, 32) == 37  # chapter 10's race
    assert L.GRU(2, 37).num_params() == ch09.gru_params(2, 37)
    assert L.LSTM(2, 32).num_params() == ch09.lstm_params(2, 32)
    for I, H in ch09.MATCH_CASES:
        k = ch09.gru_hidden_like_lstm(I, H)
        target = ch09.lstm_params(I, H)
        assert abs(ch09.gru_params(I, k) - target) <= min(abs(ch09.gru_params(I, j) - target)
                                                           for j in (k - 1, k + 1))
    check = ch09.check_gru_hidden_like_lstm.verdict
    assert check(ch09.gru_hidden_like_lstm)[0]
    expected = ["4/3", "torch's counts", "missing b_hn", "largest GRU not above"]
    for (wrong, _), words in zip(ch09.MATCH_MISTAKES, expected):
        ok, msg = check(wrong)
        assert not ok and words in msg, msg
    ok, msg = check(lambda I, H: ch09.gru_hidden_like_lstm(I, H) + 1)
    assert not ok and "4480 parameters" in msg
    ok, msg = check(lambda I, H: 4 * H / 3)
    assert not ok and "whole number" in msg


def test_check_bias_for_half_life():
    check = ch09.check_bias_for_half_life.verdict
    assert check(ch09.bias_for_half_life)[0]
    assert ch09.bias_for_half_life(1) == pytest.approx(0.0)
    assert gru_widget.half_life(ch09.bias_for_half_life(14.3)) == pytest.approx(14.3)
    # the numbers the folded solution quotes
    assert round(ch09.bias_for_half_life(100), 2) == 4.97 and round(ch09.bias_for_half_life(1000), 2) == 7.27
    ok, msg = check(lambda k: 0.5 ** (1 / k))
    assert not ok and "gate value z" in msg
    ok, msg = check(lambda k: -ch09.bias_for_half_life(k))
    assert not ok and "sign is flipped" in msg
    ok, msg = check(lambda k: np.log((1 - 0.5 / k) / (0.5 / k)))
    assert not ok and "geometrically" in msg
    ok, msg = check(lambda k: 3.0)
    assert not ok and "not 1/2" in msg
    ok, msg = check(lambda k: np.array([1.0, 2.0]))
    assert not ok and "one number" in msg


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "09_gru.ipynb"
    checks = [("cho_step_backward", ch09.check_cho_backward),
              ("gru_hidden_like_lstm", ch09.check_gru_hidden_like_lstm),
              ("bias_for_half_life", ch09.check_bias_for_half_life)]
    assert not failing_solutions(notebook, checks, sigmoid=sigmoid)


def test_gru_cell_drawing_has_every_part_and_highlights_one():
    """The chapter's GRU drawing: the three gate boxes, the blend and the state line are drawn,
    a highlighted part keeps its colour while the others are grey, and a wrong name is refused."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    fig = gru_widget.draw_gru_cell()
    gids = {a.get_gid() for a in fig.axes[0].get_children() if a.get_gid()}
    assert {"gru:r", "gru:z", "gru:n", "gru:blend", "gru:keep", "gru:write", "gru:h", "gru:reset_mul"} <= gids
    plt.close(fig)
    fig = gru_widget.draw_gru_cell(highlight="update")
    parts = {a.get_gid(): a for a in fig.axes[0].patches if a.get_gid()}
    assert to_hex(parts["gru:z"].get_edgecolor()) == to_hex(gru_widget.GRU_COLORS["update"])
    assert to_hex(parts["gru:r"].get_edgecolor()) != to_hex(gru_widget.GRU_COLORS["reset"])
    plt.close(fig)
    with pytest.raises(ValueError, match="forget"):
        gru_widget.draw_gru_cell(highlight="forget")
