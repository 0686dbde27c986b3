"""Chapter 03: the candidate cell (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

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


def test_candidate_plots_summary_widget():
    import matplotlib.pyplot as plt

    walks = np.cumsum(np.random.default_rng(0).standard_normal((40, 51)), axis=1)
    for fig in (candidate.plot_candidate(x=-2.0), candidate.plot_tanh_vs_sigmoid(),
                candidate.plot_cell_walks(walks, 0.5 * walks, 1.0, 0.9)):
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


def cells_right(c0, f, i, g):
    c, out = c0, []
    for t in range(f.shape[1]):
        c = f[:, t] * c + i[:, t] * g[:, t]
        out.append(c)
    return np.stack(out, axis=1)


def _looped(update, carry=True, before=False):
    def run(c0, f, i, g):
        c, out = c0, []
        for t in range(f.shape[1]):
            new = update(c if carry else c0, f[:, t], i[:, t], g[:, t])
            out.append(c if before else new)
            c = new
        return np.stack(out, axis=1)
    return run


def _in_place(c0, f, i, g):
    f *= 1.0001
    return cells_right(c0, f, i, g)


@pytest.mark.parametrize("wrong, words", [
    (_looped(lambda c, f, i, g: f * c + i * g, carry=False), "not carried"),
    (_looped(lambda c, f, i, g: f * c + i * g, before=True), "stored before it is updated"),
    (_looped(lambda c, f, i, g: i * c + f * g), "swapped"),
    (_looped(lambda c, f, i, g: f * c + g), "multiply it by the input gate"),
    (_looped(lambda c, f, i, g: c + i * g), "multiply it by the forget gate"),
    (_looped(lambda c, f, i, g: np.tanh(f * c + i * g)), "squashed by tanh"),
    (lambda c0, f, i, g: np.concatenate([c0[:, None], cells_right(c0, f, i, g)], axis=1), "included c0"),
    (lambda c0, f, i, g: cells_right(c0, f, i, g)[:, -1], "only the last cell"),
    (lambda c0, f, i, g: cells_right(c0, f, i, g).transpose(1, 0, 2), "time is axis 1"),
    (_in_place, "in place"),
    (lambda c0, f, i, g: cells_right(c0, f, i, g) + 0.01, "off by"),
])
def test_check_cell_over_time(wrong, words):
    assert ch03.check_cell_over_time.verdict(cells_right)[0]
    ok, msg = ch03.check_cell_over_time.verdict(wrong)
    assert not ok and words in msg, msg


def spread_right(t, f, ms):
    return np.sqrt(ms * t) if f == 1 else np.sqrt(ms * (1 - f ** (2 * t)) / (1 - f ** 2))


@pytest.mark.parametrize("wrong, words", [
    (lambda t, f, ms: spread_right(t, f, ms) ** 2, "variances"),
    (lambda t, f, ms: np.sqrt(ms * t) if f == 1 else np.sqrt(ms * (1 - f ** t) / (1 - f)), "f**(2k), not f**k"),
    (lambda t, f, ms: np.sqrt(ms * t) if f == 1 else np.sqrt(ms / (1 - f ** 2)), "limit for t -> infinity"),
    (lambda t, f, ms: spread_right(t, f, 1.0) * ms, "square root too"),
    (lambda t, f, ms: np.sqrt(ms * (1 - f ** (2 * t)) / (1 - f ** 2)), "handle f = 1 on its own"),
    (lambda t, f, ms: np.sqrt(ms * (1 - np.float64(f) ** (2 * t)) / (1 - np.float64(f) ** 2)), "not finite"),
    (lambda t, f, ms: np.sqrt(ms * t), "expected"),
    (lambda t, f, ms: np.full(2, spread_right(t, f, ms)), "one number"),
])
def test_check_spread(wrong, words):
    assert ch03.check_spread.verdict(spread_right)[0]
    ok, msg = ch03.check_spread.verdict(wrong)
    assert not ok and words in msg, msg


def test_spread_formula_matches_simulated_cells():
    """The checker's formula is what the cell does: 4000 simulated cells, writes w = i * c~."""
    rng = np.random.default_rng(3)
    w = 1 / (1 + np.exp(-rng.standard_normal((4000, 60)))) * np.tanh(rng.standard_normal((4000, 60)))
    ms = float(np.mean(w ** 2))
    for f in (1.0, 0.9):
        c = np.zeros(4000)
        for t in range(60):
            c = f * c + w[:, t]
        assert c.std() == pytest.approx(spread_right(60, f, ms), rel=0.05)


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "03_candidate_cell.ipynb"
    checks = [("cell_over_time", ch03.check_cell_over_time), ("spread", ch03.check_spread)]
    assert not failing_solutions(notebook, checks)
