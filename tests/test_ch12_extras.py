"""Chapter 12's course side: the smoother study (lstm_lib.course.smoothness), the exercise
checkers and the learning-rate widget (lstm_lib.course.widgets.race). Torch-free but for the
tests of the weight-copy checker."""
import json
import pathlib
import re

import matplotlib
import numpy as np
import pytest

from lstm_lib.course import smoothness as S
from lstm_lib.course.exercises import ch12
from lstm_lib.course.smoothness import Knobs, roughness, train_variant
from lstm_lib.course.widgets import race
from lstm_lib.forecasting import prepare
from lstm_lib.layers import Linear
from lstm_lib.lstm import LSTM
from lstm_lib.optim import SGD
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


def test_recipes_are_every_combination_named_by_what_differs():
    r = S.recipes()
    assert len(r) == 16 and len(set(r.values())) == 16
    names = list(r)
    assert names[0] == "shared recipe" and names[1:4] == ["small lr", "summed", "raw input"]
    assert names[8] == "momentum-SGD" and names[-1] == "all four (from-scratch recipe)"
    assert r["momentum-SGD + raw input"] == Knobs("momentum", S.SHARED_LR, "mean", False)
    assert r["all four (from-scratch recipe)"] == Knobs("momentum", S.SMALL_LR, "sum", False)


def test_nominal_step_of_each_optimiser():
    assert Knobs("adam", 0.01, "sum").nominal_step() == 0.01  # Adam: summing changes nothing
    assert Knobs("momentum", 0.01).nominal_step() == pytest.approx(0.1)  # 1 / (1 - 0.9)
    assert Knobs("momentum", 5e-4, "sum").nominal_step(64) == pytest.approx(0.32)  # x 64 x 10
    assert Knobs("momentum", 5e-4, "sum").nominal_step(8) == pytest.approx(0.04)


def test_step_meter_measures_the_update():
    lin = Linear(4, 1, dtype=np.float64)
    lin.grads["W"][...] = np.array([[1.0], [-2.0], [0.0], [3.0]])
    lin.grads["b"][...] = 4.0
    meter = S.StepMeter(SGD(lin, 0.1), lin, watch=("W",))
    meter.step()
    assert meter.lr == 0.1
    assert meter.rms_all == [pytest.approx(0.1 * np.sqrt((1 + 4 + 0 + 9 + 16) / 5))]
    assert meter.rms_watch == [pytest.approx(0.1 * np.sqrt(14 / 4))]


def test_gate_saturation_counts_flat_gates():
    lstm = LSTM(1, 2, dtype=np.float64)
    X = np.random.default_rng(0).standard_normal((3, 4, 1))
    for name in lstm.params:
        lstm.params[name][...] = 0.0
    assert S.gate_saturation(lstm, X) == 0.0  # every gate at z = 0
    lstm.params["b"][...] = 10.0
    assert S.gate_saturation(lstm, X) == 1.0
    lstm.params["b"][...] = 3.0  # beyond the tanh's 2.65, inside the sigmoid's 4.6: only g is flat
    assert S.gate_saturation(lstm, X) == 0.25


def sine_data(n):
    v = 50 + 40 * np.sin(2 * np.pi * np.arange(n) / 11)
    return prepare(Series("sine", [str(i) for i in range(n)], v, "u"), window=6, difference=False)


def test_small_learning_rate_gives_smoother_predictions():
    d = sine_data(120)
    fast = train_variant(d, Knobs(lr=1e-2), epochs=15, hidden=8)
    slow = train_variant(d, Knobs(lr=1e-4), epochs=15, hidden=8)
    assert slow.roughness < 0.5 * fast.roughness
    assert slow.step_all < 0.1 * fast.step_all  # Adam's step is about lr
    raw = train_variant(d, Knobs(lr=1e-2, scaled_input=False), epochs=3, hidden=8)
    assert raw.saturation > 0.3 > fast.saturation  # raw input 10..90: the gates go flat


def test_study_reports_diverged_runs_and_leaves_them_out():
    d = sine_data(80)
    wild = Knobs(lr=1e8, optimizer="momentum", reduction="sum", scaled_input=False)  # overflows
    blown = Knobs(lr=30.0, optimizer="momentum", reduction="sum", scaled_input=False)  # finite, huge
    study = S.smoother_study(d, {"shared recipe": Knobs(lr=1e-2), "wild": wild, "blown": blown},
                             seeds=(0,), epochs=3, hidden=4)
    assert not study["shared recipe"][0].diverged and np.isfinite(study["shared recipe"][0].mse)
    for name in ("wild", "blown"):
        assert study[name][0].diverged and np.isnan(study[name][0].mse) and study[name][0].pred is None
    numbers = S.study_numbers(study)
    table = S.study_table(numbers, roughness(d.y_test_units), knobs={"shared recipe": Knobs(lr=1e-2),
                                                                     "wild": wild, "blown": blown})
    wild_row = next(line for line in table.splitlines() if line.startswith("| wild |"))
    assert wild_row == "| wild | 6.4e+10 × gradient | - | - | - (1 of 1 runs diverged) | - | - | - |"
    assert "| 1.0 ± 0.0 |" in table.splitlines()[2]  # the shared recipe's MSE / its own


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


# --- exercise 2: the fraction of flat gates --------------------------------------------------

def _flat(variant):
    """A flat-fraction answer with one planted change."""
    def fn(lstm, X):
        p, H = lstm.params, lstm.hidden_size
        h = lstm.forward(X)
        h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
        if variant == "h_t":
            h_prev = h
        z = X @ p["W_x"] + h_prev @ p["W_h"] + (0 if variant == "no bias" else p["b"])
        if variant == "no W_h":
            z = X @ p["W_x"] + p["b"]
        limit = np.full(4 * H, 4.6)
        block = slice(H, 2 * H) if variant == "f as tanh" else slice(2 * H, 3 * H)
        limit[block] = 4.6 if variant == "one threshold" else 2.65
        flat = (z > limit) if variant == "no abs" else (np.abs(z) > limit)
        if variant == "sigmoids only":
            flat = flat[..., np.r_[0:2 * H, 3 * H:4 * H]]
        if variant == "gate values":  # via sigmoid(z) < 0.01 or > 0.99: a threshold of 4.595
            s = 1 / (1 + np.exp(-z))
            flat = (s < 0.01) | (s > 0.99)
            flat[..., 2 * H:3 * H] = np.abs(np.tanh(z[..., 2 * H:3 * H])) > 0.99
        return flat.sum() if variant == "count" else flat.mean()
    return fn


def test_flat_fraction_checker_accepts_right_answers():
    assert ch12.check_flat_fraction.verdict(S.gate_saturation)[0]
    assert ch12.check_flat_fraction.verdict(_flat("right"))[0]
    assert ch12.check_flat_fraction.verdict(_flat("gate values"))[0]


@pytest.mark.parametrize("variant, words", [
    ("h_t", "you used h[t]"), ("no W_h", "recurrent term"), ("no bias", "bias b is missing"),
    ("one threshold", "the candidate g is a tanh"), ("f as tanh", "wrong block"),
    ("sigmoids only", "the candidate g counts too"), ("no abs", "large negative z"),
    ("count", "return the fraction"),
])
def test_flat_fraction_checker_names_the_mistake(variant, words):
    ok, message = ch12.check_flat_fraction.verdict(_flat(variant))
    assert not ok and words in message, message


def test_flat_fraction_checker_other_mistakes():
    ok, message = ch12.check_flat_fraction.verdict(lambda lstm, X: 0.5)
    assert not ok and "expected" in message and "h[t-1] W_h" in message
    ok, message = ch12.check_flat_fraction.verdict(lambda lstm, X: np.zeros(3))
    assert not ok and "return one number" in message


# --- exercise 3: copy the weights from torch -----------------------------------------------

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


def test_copy_checker_without_torch_says_so_in_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    ok, message = ch12.check_copy_from_torch.verdict(_copy)
    assert not ok and message == "this exercise needs PyTorch: PyTorch is not installed (pip install torch)"


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


# --- what the chapter and the README show from stored runs -----------------------------------

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _markdown(path):
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")


def test_speed_table_of_the_chapter_is_the_stored_benchmark():
    bench = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    stored, wall = bench["cpu, as set"], bench["wall, as set"]
    text = _markdown(ROOT / "notebooks" / "12_against_pytorch.ipynb")
    rows = re.findall(r"^\| (\d+), (\d+), (\d+), (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", text, re.MULTILINE)
    lstm = [r for r in stored["results"] if r["kind"] == "LSTM"]
    assert len(rows) == len(lstm) == 4
    for row, r in zip(rows, lstm):
        assert tuple(map(int, row[:4])) == (r["batch"], r["time"], r["input"], r["hidden"])
        assert row[4:] == (f"{r['ms']['lstm_lib']:.2f}", f"{r['ms']['torch']:.2f}", f"{r['ratio']:.2f}")
    blas = stored["blas"]
    for fact in (stored["processor"], f"NumPy {stored['numpy_version']}",
                 f"OpenBLAS {blas['version'][:6]} (kernel {blas['architecture']})",
                 f"torch {stored['torch_version'].split('+')[0]}", f"median of {stored['rounds']} rounds"):
        assert fact in text, fact
    worst = max(r["ratio"] for r in lstm)
    largest = [r["ratio"] for r in lstm if r["batch"] >= 32 and r["hidden"] >= 128]  # "about the same"
    assert len(largest) == 2 and all(0.9 <= v <= 1.1 for v in largest)
    assert f"up to {worst:.1f} times as long" in text
    two = ", ".join(f"{r['ratio']:.2f}" for r in wall["results"] if r["kind"] == "LSTM")
    assert f"the ratios are {two} at the same four shapes" in text
    assert all(w["ratio"] > c["ratio"] for w, c in zip(wall["results"][:4], lstm))  # torch gains more


def test_readme_shows_the_stored_race():
    from lstm_lib import race as R
    from lstm_lib.course.results import load_result

    stored = load_result("race_co2.json")
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The race against PyTorch"):readme.index("## Inside lstm_lib")]
    assert R.results_table(stored) in section
    assert stored["recipe"] == vars(R.Recipe())  # the default command's run
    neural = [r["key"] for r in stored["results"] if r["key"] not in R.BASELINES]
    pairs = {frozenset((a, b)) for a in neural for b in neural if a != b and R.separated(stored, a, b)}
    assert pairs == {frozenset(("lstm_lib", k)) for k in ("lstm_lib_torch_init", "torch_lstm_one_bias",
                                                          "torch_lstm", "torch_gru")}
    assert all(R.separated(stored, k, "linear") for k in neural)


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker (the weight copy only
    with torch)."""
    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = ROOT / "notebooks" / "12_against_pytorch.ipynb"
    checks = [("my_roughness", ch12.check_roughness), ("my_flat_fraction", ch12.check_flat_fraction)]
    try:
        import torch  # noqa: F401
        checks.append(("my_copy", ch12.check_copy_from_torch))
    except ImportError:
        pass
    assert not failing_solutions(notebook, checks)


def test_chapter_runs_without_torch():
    """Without PyTorch each section that needs it prints one line, the exercise checker that
    needs it says so, and the rest of the chapter runs (torch is blocked in the kernel)."""
    import nbformat
    from nbclient import NotebookClient

    folder = ROOT / "notebooks"
    nb = nbformat.read(folder / "12_against_pytorch.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell('import sys\nsys.modules["torch"] = None  # no torch'))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()  # raises on any error
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert text.count("PyTorch is not installed (pip install torch)") == 4  # sections 1, 2, 4, exercise 3
    assert "Traceback" not in text and "max |diff|" not in text  # the parity section was skipped
    assert "live, 3 seeds" in text and "no answer yet" in text  # the torch-free parts ran


def test_benchmarks_readme_says_why_2x_over_the_textbook_is_out_of_reach():
    """The argument in benchmarks/README.md: at the two large shapes the textbook LSTM is less
    than 2 times its matrix-product floor in three of the four stored tables, so no step that
    makes the same products could be 2x faster than it; the figures quoted are the stored ones."""
    bench = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    text = (ROOT / "benchmarks" / "README.md").read_text()
    large = {(64, 100, 32, 128), (32, 35, 650, 650)}

    def rows(table):
        return [r for r in bench[table]["results"]
                if r["kind"] == "LSTM" and (r["batch"], r["time"], r["input"], r["hidden"]) in large]

    def book_over_floor(r):
        return r["ms"]["textbook"] / r["ms"]["floor"]

    others = [book_over_floor(r) for t in ("wall, OPENBLAS_CORETYPE=Haswell", "cpu, as set",
                                            "cpu, OPENBLAS_CORETYPE=Haswell") for r in rows(t)]
    assert len(others) == 6 and max(others) < 2  # 2x impossible there even at the floor
    assert f"that is {min(others):.2f} to {max(others):.2f} at (64, 100, 32, 128)" in text
    wall = rows("wall, as set")
    assert "the textbook is {} and {} times its floor".format(
        *(f"{book_over_floor(r):.2f}" for r in wall)) in text
    assert "within {} and {}\n  of its floor".format(
        *(f"{book_over_floor(r) / 2:.2f}" for r in wall)) in text
    assert "(the library is at {} and {})".format(*(f"{r['over_floor']:.2f}" for r in wall)) in text


def test_benchmarks_readme_quotes_the_stored_two_core_measurement():
    """The two-core paragraph of benchmarks/README.md quotes two_cores_elementwise.json, and
    what it concludes holds in the record: no gain from a second thread with OpenBLAS's
    default, a gain with its threads asleep, and a slower training step then."""
    rec = json.loads((ROOT / "lstm_lib" / "course" / "results" / "two_cores_elementwise.json").read_text())
    text = " ".join((ROOT / "benchmarks" / "README.md").read_text().split())
    spin, sleep = rec["ms"]["OpenBLAS default (threads spin after a product)"], \
        rec["ms"]["OPENBLAS_THREAD_TIMEOUT=4 (threads sleep at once)"]
    one, two = "elementwise, one thread", "elementwise, two threads"
    after1, after2 = "product, then elementwise on one thread", "product, then elementwise on two threads"
    step = "LSTM training step (64, 100, 32, 128)"
    assert spin[two] > 0.9 * spin[one] and spin[after2] > 0.9 * spin[after1]  # no gain
    assert sleep[two] < 0.7 * sleep[one] and sleep[after2] < 0.85 * sleep[after1]  # a gain
    assert sleep[step] > spin[step]  # but the whole step is slower
    for fact in (f"took {spin[two]:.2f} ms on two threads against {spin[one]:.2f} ms on one",
                 f"({spin[after2]:.2f} against {spin[after1]:.2f} ms right after a product)",
                 (f"({sleep[two]:.2f} against {sleep[one]:.2f} ms; {sleep[after2]:.2f} against "
                  f"{sleep[after1]:.2f} ms after a product)"),
                 f"took {sleep[step]:.1f} ms against {spin[step]:.1f} ms"):
        assert fact in text, fact


# --- the input study: centring and scaling separated -----------------------------------------

def test_input_form_separates_centring_and_scaling(sun):
    X = sun.X_train
    units = sun.scaled_input_units(X).astype(np.float64)
    mean, std = sun.scaler.mean, sun.scaler.std
    forms = {f: S.input_form(sun, X, f) for f in S.INPUT_FORMS}
    assert all(v.dtype == np.float32 and v.shape == X.shape for v in forms.values())
    np.testing.assert_allclose(forms["raw"], units, rtol=1e-6)
    np.testing.assert_allclose(forms["centred only"], units - mean, atol=1e-4)
    np.testing.assert_allclose(forms["scaled only"], units / std, rtol=1e-5)
    np.testing.assert_allclose(forms["centred and scaled"], X, rtol=1e-6)
    # the training windows: centring removes the mean (not the spread), scaling the spread (not the mean)
    assert abs(forms["centred only"].mean()) < 0.1 * std < forms["centred only"].std()
    assert abs(forms["scaled only"].std() - units.std() / std) < 1e-4 and forms["scaled only"].mean() > 1
    with pytest.raises(ValueError, match="input form must be one of"):
        S.input_form(sun, X, "standardised")


def test_jitter_weights_moves_each_weight_by_about_one_rounding():
    from lstm_lib.forecasters import lstm_lib_model

    model = lstm_lib_model(8)
    before = {k: v.copy() for k, v in model.params.items()}
    S.jitter_weights(model, 6e-8, seed=0)
    rel = np.concatenate([((model.params[k] - v) / np.where(v == 0, 1, v)).ravel()
                          for k, v in before.items() if np.any(v)])
    # in float32 a change this small rounds to one unit or to none: a part moves, by about 1e-7
    assert 0 < np.abs(rel).max() < 2.5e-7 and 0.2 < np.mean(rel != 0) < 1
    again = lstm_lib_model(8)
    for k, v in before.items():
        again.params[k][...] = v
    S.jitter_weights(again, 6e-8, seed=0)
    assert all(np.array_equal(again.params[k], model.params[k]) for k in before)  # its own generator


def test_train_variant_counts_flat_gates_at_the_start_and_shrinks_the_input_weights():
    d = sine_data(120)  # raw values 10..90
    raw = train_variant(d, Knobs(lr=1e-2), epochs=2, hidden=8, form="raw")
    scaled = train_variant(d, Knobs(lr=1e-2), epochs=2, hidden=8, form="scaled only")
    shrunk = train_variant(d, Knobs(lr=1e-2), epochs=2, hidden=8, form="raw", init_wx_scale=1 / d.scaler.std)
    assert raw.saturation_init > 0.3 and scaled.saturation_init < 0.05 and shrunk.saturation_init < 0.05
    assert "saturation_init" in raw.numbers() and "pred" not in raw.numbers()
    # form overrides knobs.scaled_input: the same run either way
    same = train_variant(d, Knobs(lr=1e-2, scaled_input=False), epochs=2, hidden=8)
    assert same.mse == raw.mse and same.saturation_init == raw.saturation_init


# --- the conditioning demo -------------------------------------------------------------------

@pytest.fixture(scope="module")
def cond(sun):
    return race.ConditioningDemo(sun, steps=60)


def test_conditioning_demo_condition_numbers(cond, sun):
    mean, std = sun.scaler.mean, sun.scaler.std
    kappa = {f: cond.run(*oc)["kappa"] for f, oc in
             {"raw": (0, 1), "centred": (mean, 1), "scaled": (0, std), "both": (mean, std)}.items()}
    assert kappa["raw"] > 30 * max(kappa["centred"], kappa["scaled"]) and kappa["both"] < kappa["scaled"]
    eig = cond.hessian_eigenvalues(mean, std)
    assert len(eig) == 13 and np.all(np.diff(eig) <= 0) and eig[-1] > 0  # 12 weights and a bias
    # the Hessian is that of the mean squared error: check it by finite differences of the loss
    X, _ = cond.inputs(mean, std)
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.random.default_rng(0).standard_normal(13)
    loss = lambda v: np.mean((A @ v - cond.y_train[:, 0]) ** 2)
    e = np.random.default_rng(1).standard_normal(13)
    second = (loss(w + e) - 2 * loss(w) + loss(w - e))
    H = 2 * A.T @ A / len(A)
    assert second == pytest.approx(e @ H @ e, rel=1e-6)


def test_conditioning_demo_converges_when_well_conditioned_and_diverges_past_the_limit(cond, sun):
    both, raw = cond.run(sun.scaler.mean, sun.scaler.std), cond.run(0.0, 1.0)
    assert both["excess"] < 0.01 and raw["excess"] > 0.3 and both["diverged_at"] is None
    assert len(both["curve"]) == cond.steps + 1 and both["curve"][-1] < both["curve"][0]
    assert np.isclose(both["test_mse"], np.mean((both["pred"] - cond.truth) ** 2))
    wild = cond.run(0.0, 1.0, 5.0)  # far past 2 (1 + momentum) / lambda_max
    assert wild["diverged_at"] is not None and wild["pred"] is None and wild["test_mse"] is None
    assert cond.run(0.0, 1.0) is raw  # cached


def test_conditioning_summary_plot_and_widget(cond):
    import matplotlib.pyplot as plt

    text = cond.summary(0.0, 1.0, html=False)
    assert "condition number" in text and "<b>" not in text and "above its minimum" in text
    assert "diverged at step" in cond.summary(0.0, 1.0, 5.0)
    fig = cond.plot(0.0, 1.0)
    assert len(fig.axes) == 3 and "condition number" in fig.axes[0].get_title()
    assert np.allclose(fig.axes[2].lines[-1].get_ydata(), cond.run(0.0, 1.0)["pred"])
    bad = cond.plot(0.0, 1.0, 5.0)
    assert any("diverged" in t.get_text() for t in bad.axes[2].texts)
    plt.close(fig)
    plt.close(bad)
    pytest.importorskip("ipywidgets")
    w = race.conditioning_widget(cond)
    offset, divide_by, _ = w.children[0].children
    before = w.children[1].value
    offset.value, divide_by.value = 44.0, 34.0
    assert w.children[1].value != before and "(x - 44) / 34" in w.children[1].value


# --- the drawing of the race -----------------------------------------------------------------

def test_race_drawing_lines_up_models_and_results():
    import matplotlib.pyplot as plt

    from lstm_lib.course.race_drawing import draw_race
    from lstm_lib.series import read_series

    data = prepare(read_series("co2_monthly"), window=24, test_fraction=0.2, val_fraction=0.15)
    rows = [("naive", 1.609, 0.0), ("an LSTM", 0.0871, 0.0026)]
    fig = draw_race(data, rows)
    series, windows, models, table = fig.axes
    assert [t.get_text() for t in models.texts] == ["naive", "an LSTM"]
    assert [t.get_text() for t in table.texts] == ["1.609 ± 0.000", "0.087 ± 0.003"]
    assert [t.get_position()[1] for t in models.texts] == [t.get_position()[1] for t in table.texts]
    assert len(series.lines[0].get_ydata()) == len(data.series.values)
    assert len(windows.patches) == data.window + 1  # the window's changes and the one it predicts
    assert len(fig.patches) == 3  # arrows between the four panels
    plt.close(fig)
