"""Chapter 03: the candidate cell (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course.exercises import ch03
from lstm_lib.course.widgets import candidate


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


def test_candidate_widget_builds(monkeypatch, tiny_figure):
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
