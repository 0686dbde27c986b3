"""Chapter 12's course side: the smoother study (lstm_lib.course.smoothness), the exercise
checkers and the learning-rate widget (lstm_lib.course.widgets.race). Torch-free but for the
tests of the weight-copy checker."""
import matplotlib
import numpy as np
import pytest

from lstm_lib.course.exercises import ch12
from lstm_lib.course.smoothness import Knobs, roughness, smoother_study, study_table, train_variant
from lstm_lib.course.widgets import race
from lstm_lib.forecasting import prepare
from lstm_lib.series import Series, load_bundled

matplotlib.use("Agg")


# --- roughness and the smoother study --------------------------------------------------------

def test_roughness_on_known_inputs():
    assert roughness(np.arange(10.0) * 3 + 1) == 0.0  # a straight line
    assert roughness([0, 1, 0, 1, 0]) == pytest.approx(2.0)  # |-2|, |2|, |-2|
    assert roughness(np.arange(6.0) ** 2) == pytest.approx(2.0)  # constant curvature
    assert roughness([[1.0], [2.0], [4.0]]) == pytest.approx(1.0)  # (n, 1) columns are flattened
    with pytest.raises(ValueError, match="at least 3"):
        roughness([1.0, 2.0])


def sine_data(n):
    v = 50 + 40 * np.sin(2 * np.pi * np.arange(n) / 11)
    return prepare(Series("sine", [str(i) for i in range(n)], v, "u"), window=6, difference=False)


def test_small_learning_rate_gives_smoother_predictions():
    d = sine_data(120)
    fast, _ = train_variant(d, Knobs(lr=1e-2), epochs=15, hidden=8)
    slow, _ = train_variant(d, Knobs(lr=1e-4), epochs=15, hidden=8)
    assert roughness(slow) < 0.5 * roughness(fast)


def test_study_reports_diverged_runs_and_leaves_them_out():
    d = sine_data(80)
    wild = Knobs(lr=1e8, optimizer="momentum", reduction="sum", scaled_input=False)  # overflows
    recipes = {"tame": Knobs(lr=1e-2), "wild": wild}
    rows = smoother_study(d, seeds=(0,), epochs=3, hidden=4, recipes=recipes)
    assert rows[0].diverged == [False] and np.isfinite(rows[0].mse[0])
    assert rows[1].diverged == [True] and np.isnan(rows[1].mse[0]) and rows[1].pred is None
    table = study_table(rows, d.y_test_units)
    assert "| wild |" in table and "diverged in 1 of 1 runs" in table
    assert f"| the truth itself | | 0 | {roughness(d.y_test_units):.4g} |" in table


# --- exercise 1: roughness -----------------------------------------------------------------

def test_roughness_checker_accepts_right_answers():
    assert ch12.check_roughness.verdict(roughness)[0]
    assert ch12.check_roughness.verdict(lambda p: np.mean(np.abs(np.diff(p, 2))))[0]


@pytest.mark.parametrize("wrong, words", [
    (lambda p: np.mean(np.abs(np.diff(p))), "FIRST difference"),
    (lambda p: np.mean(np.diff(p, 2)), "absolute value is missing"),
    (lambda p: np.sum(np.abs(np.diff(p, 2))), "sum"),
    (lambda p: np.sum(np.abs(np.diff(p, 2))) / len(p), "divided by n"),
    (lambda p: np.mean(np.diff(p, 2) ** 2), "squared"),
    (lambda p: np.mean(np.abs(p[2:] - p[:-2])), "skips the middle value"),
    (lambda p: np.abs(np.diff(p, 2)), "return one number"),
    (lambda p: 1 / 0, "ZeroDivisionError"),
    (lambda p: np.max(np.abs(np.diff(p, 2))), "expected"),
])
def test_roughness_checker_names_the_mistake(wrong, words):
    ok, message = ch12.check_roughness.verdict(wrong)
    assert not ok and words in message, message


def test_roughness_checker_placeholder():
    def stub(pred):
        raise NotImplementedError

    ok, message = ch12.check_roughness.verdict(stub)
    assert not ok and "no answer yet" in message


# --- exercise 2: copy the weights from torch -----------------------------------------------

def _parts(m):
    w_ih, w_hh = m.weight_ih_l0.detach().numpy(), m.weight_hh_l0.detach().numpy()
    b_ih, b_hh = m.bias_ih_l0.detach().numpy(), m.bias_hh_l0.detach().numpy()
    return w_ih, w_hh, b_ih, b_hh


def _copy(m):
    w_ih, w_hh, b_ih, b_hh = _parts(m)
    return w_ih.T, w_hh.T, b_ih + b_hh


def test_copy_checker_accepts_the_right_copy_and_interop():
    pytest.importorskip("torch")
    from lstm_lib.interop import from_torch

    assert ch12.check_copy_from_torch.verdict(_copy)[0]

    def via_interop(m):
        layer = from_torch(m)
        return layer.params["W_x"], layer.params["W_h"], layer.params["b"]

    assert ch12.check_copy_from_torch.verdict(via_interop)[0]


def _bad(change):
    def fn(m):
        w_ih, w_hh, b_ih, b_hh = _parts(m)
        return change(w_ih, w_hh, b_ih, b_hh)
    return fn


@pytest.mark.parametrize("wrong, words", [
    (_bad(lambda wi, wh, bi, bh: (wi, wh.T, bi + bh)), "transpose it with .T"),
    (_bad(lambda wi, wh, bi, bh: (wi.T, wh, bi + bh)), "transpose it with .T"),
    (_bad(lambda wi, wh, bi, bh: (wi.reshape(3, 20), wh.T, bi + bh)), "reshape"),
    (_bad(lambda wi, wh, bi, bh: (wh.T, wi.T, bi + bh)), "swapped"),
    (_bad(lambda wi, wh, bi, bh: (wi.T, wh.T, bi)), "bias_ih_l0 alone"),
    (_bad(lambda wi, wh, bi, bh: (wi.T, wh.T, bh)), "bias_hh_l0 alone"),
    (_bad(lambda wi, wh, bi, bh: (wi.T, wh.T, (bi + bh) / 2)), "averaged"),
    (_bad(lambda wi, wh, bi, bh: (wi.T[:, ::-1], wh.T, bi + bh)), "gate order"),
    (_bad(lambda wi, wh, bi, bh: (wi.T, wh.T)), "three arrays"),
    (lambda m: (m.weight_ih_l0.T, m.weight_hh_l0.T, m.bias_ih_l0 + m.bias_hh_l0), ".detach().numpy()"),
])
def test_copy_checker_names_the_mistake(wrong, words):
    pytest.importorskip("torch")
    ok, message = ch12.check_copy_from_torch.verdict(wrong)
    assert not ok and words in message, message


def test_copy_checker_leaves_torch_random_state_alone():
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    ch12.check_copy_from_torch.verdict(_copy)
    assert torch.equal(torch.rand(3), expected)


# --- the widget ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sun():
    return prepare(load_bundled("sunspots"), window=12, test_fraction=0.2, difference=False)


@pytest.fixture(scope="module")
def demo(sun):
    return race.LearningRateDemo(sun, reference={"LSTM": sun.y_test_units * 0.9})


@pytest.fixture(scope="module")
def quick(sun):
    """Few epochs: for the tests of the readout and the figure, which retrain many times."""
    return race.LearningRateDemo(sun, reference={"LSTM": sun.y_test_units * 0.9}, epochs=4)


def test_small_learning_rate_is_smoother_and_worse(demo):
    small, mid = demo.run_gd(1e-4), demo.run_gd(1e-2)
    assert small["roughness"] < 0.5 * mid["roughness"] and small["mse"] > 2 * mid["mse"]
    assert small["progress"] < mid["progress"] < 1
    assert np.isclose(demo.ls["mse"], np.mean((demo.ls["pred"] - demo.truth) ** 2))


def test_momentum_gets_further_and_too_large_a_step_diverges(demo):
    assert demo.run_gd(1e-3, 0.9)["progress"] > demo.run_gd(1e-3, 0.0)["progress"]
    bad = demo.run_gd(10 ** -0.5, 0.0)
    assert bad["diverged_at"] is not None and bad["pred"] is None


def test_summary_and_plot_follow_the_sliders(quick):
    import matplotlib.pyplot as plt

    s1, s2, s3 = quick.summary(-3.0, 0.0), quick.summary(-2.0, 0.0), quick.summary(-3.0, 0.9)
    assert len({s1, s2, s3}) == 3 and "lr = 0.001" in s1 and "roughness" in s1
    assert "diverged" in quick.summary(-0.5, 0.0)
    figs = [quick.plot(-3.0, 0.0), quick.plot(-0.5, 0.0)]
    assert np.allclose(figs[0].axes[0].lines[-1].get_ydata(), quick.run_gd(1e-3)["pred"])
    assert any("diverged" in t.get_text() for t in figs[1].axes[0].texts)
    for f in figs:
        plt.close(f)


def test_widget_builds(quick):
    pytest.importorskip("ipywidgets")
    w = race.race_widget(quick)
    sliders = w.children[0].children
    readout = w.children[1]
    before = readout.value
    sliders[0].value = -2.0
    assert readout.value != before and "lr = 0.01" in readout.value
