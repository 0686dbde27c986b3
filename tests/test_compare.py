"""Tests of `python -m lstm_lib compare` (lstm_lib/compare.py, __main__.py) and of the
chapter-12 helpers: parity with torch.nn.LSTM and the roughness measure (smoothness.py).

The command runs as a real subprocess; all the bad-input runs start together in one fixture
so the whole file stays at a few seconds."""
import re
import subprocess
import sys

import numpy as np
import pytest

from lstm_lib import compare as C
from lstm_lib.course.smoothness import Knobs, roughness, smoother_study, study_table, train_variant

torch = pytest.importorskip("torch")


# --- helpers ------------------------------------------------------------------------------

def write_csv(path, header, rows):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def run_cli(*args):
    return subprocess.Popen([sys.executable, "-m", "lstm_lib", "compare", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sine_rows(n, gaps=()):
    t = np.arange(n)
    v = 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t
    return [f"2000-{1 + i // 28:02d}-{1 + i % 28:02d},{'' if i in gaps else f'{v[i]:.4f}'},x{i}"
            for i in range(n)]


BAD = {  # name -> (arguments, pieces the error message must contain)
    "missing file": (["--csv", "{tmp}/nope.csv", "--column", "value"], ["file not found", "nope.csv"]),
    "missing column": (["--csv", "{good}", "--column", "sales"],
                       ["no column 'sales'", "its columns are: date, value, name"]),
    "non-numeric column": (["--csv", "{good}", "--column", "name"],
                           ["not numeric", "60 of 60", "line 2: 'x0'"]),
    "nan gaps": (["--csv", "{gappy}", "--column", "value"],
                 ["4 missing values in 2 gaps", "rows 6-8", "row 31", "--interpolate"]),
    "too short": (["--csv", "{short}", "--column", "value", "--window", "24"],
                  ["too short", "20 values", "--window"]),
    "no column given": (["--csv", "{good}"], ["--csv needs --column"]),
    "bundled gaps": (["--series", "co2_weekly"], ["59 missing values", "--interpolate"]),
    "bad window": (["--window", "0"], ["--window", "at least 1"]),
    "unknown model": (["--models", "naive,transformer"], ["unknown model", "transformer"]),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    return {
        "tmp": str(tmp),
        "good": write_csv(tmp / "good.csv", "date,value,name", sine_rows(60)),
        "gappy": write_csv(tmp / "gappy.csv", "date,value,name", sine_rows(60, gaps=(5, 6, 7, 30))),
        "short": write_csv(tmp / "short.csv", "date,value,name", sine_rows(20)),
    }


@pytest.fixture(scope="module")
def runs(files):
    """Start every command run of this file at once (they are independent); wait for all."""
    tiny = ["--epochs", "1", "--seeds", "1", "--no-plots"]
    procs = {name: run_cli(*[a.format(**files) for a in args], *tiny) for name, (args, _) in BAD.items()}
    out = files["tmp"] + "/out"
    procs["good"] = run_cli("--csv", files["good"], "--column", "value", "--window", "8",
                            "--epochs", "2", "--seeds", "2", "--models",
                            "naive,linear,lstm_lib,torch_lstm", "--out", out, "--plotlyjs", "cdn")
    procs["interpolate"] = run_cli("--csv", files["gappy"], "--column", "value", "--window", "8",
                                   "--models", "naive,linear", "--interpolate", *tiny)
    procs["help"] = run_cli("--help")
    results = {name: (p.wait(timeout=300), *p.communicate()) for name, p in procs.items()}
    results["out"] = out
    return results


# --- the command --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_gives_message_and_nonzero_exit(runs, name):
    code, stdout, stderr = runs[name]
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr + stdout
    for piece in BAD[name][1]:
        assert piece in stderr, f"{piece!r} not in {stderr!r}"


def test_table_has_every_model_and_baseline_rows(runs, files):
    code, stdout, stderr = runs["good"]
    out = runs["out"]
    assert code == 0, stderr
    rows = {line.split("|")[1].strip(): line for line in stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| model")}
    assert set(rows) == {C.MODELS[k] for k in ("naive", "linear", "lstm_lib", "torch_lstm")}
    assert "±" in rows["lstm_lib LSTM"] and "±" in rows["PyTorch LSTM"]  # mean ± std over 2 seeds
    # the naive row's MSE (in the series' units) is the one computed here from the file
    data = C.prepare(C.read_csv_series(files["good"], "value"), window=8)
    expected = np.mean((data.series.values[data.test_index - 1] - data.y_test_units) ** 2)
    shown = float(rows["naive (last value)"].split("|")[3])
    assert shown == pytest.approx(expected, rel=5e-3)
    assert re.search(r"\[ ?1/6\]", stderr)  # progress: 2 baselines + 2 models x 2 seeds
    for name in ("predictions.png", "predictions.html", "results.json"):
        assert (C.pathlib.Path(out) / name).stat().st_size > 0
    assert "cdn.plot.ly" in (C.pathlib.Path(out) / "predictions.html").read_text()


def test_interpolate_fills_the_gaps(runs):
    code, stdout, stderr = runs["interpolate"]
    assert code == 0, stderr
    assert "interpolated 4 missing values in 2 gaps" in stderr
    assert "| linear AR (least squares) |" in stdout


def test_help_documents_every_option(runs):
    code, text, _ = runs["help"]
    assert code == 0
    for opt in ("--series", "--csv", "--column", "--date-column", "--interpolate", "--window",
                "--test-fraction", "--no-difference", "--models", "--seeds", "--epochs", "--hidden",
                "--lr", "--batch-size", "--threads", "--out", "--plotlyjs", "--no-plots", "--quiet"):
        assert re.search(rf"{opt}\b.*\n?\s+\S", text), opt


# --- data preparation and baselines -------------------------------------------------------

def test_split_scaling_and_windows_do_not_leak():
    v = np.concatenate([np.arange(80.0), 1000 + np.arange(20.0)])  # the test part is far off
    s = C.Series("toy", [str(i) for i in range(100)], v, "u")
    d = C.prepare(s, window=5, test_fraction=0.2, difference=False)
    assert d.n_test == 20 and list(d.test_index) == list(range(80, 100))
    assert d.scaler.mean == pytest.approx(39.5)  # fitted on the first 80 values only
    assert d.X_train.shape == (75, 5, 1) and d.X_test.shape == (20, 5, 1)
    np.testing.assert_allclose(d.to_units(d.y_test[:, 0]), d.y_test_units, rtol=1e-6)
    dd = C.prepare(s, window=5, test_fraction=0.2, difference=True)
    np.testing.assert_allclose(dd.to_units(dd.y_test[:, 0]), dd.y_test_units, rtol=1e-6)
    # the naive forecast is the last known value, in both modes
    np.testing.assert_allclose(dd.to_units(C.predict_naive(dd)[:, 0]), v[79:99], rtol=1e-9)
    np.testing.assert_allclose(d.to_units(C.predict_naive(d)[:, 0]), v[79:99], rtol=1e-6)


def test_linear_baseline_recovers_an_ar_process():
    rng = np.random.default_rng(0)
    v = np.zeros(400)
    for t in range(2, 400):
        v[t] = 0.6 * v[t - 1] - 0.3 * v[t - 2] + rng.standard_normal()
    d = C.prepare(C.Series("ar2", list(map(str, range(400))), v, "u"), window=2, difference=False)
    w, _ = C.fit_linear(d)
    np.testing.assert_allclose(w, [-0.3, 0.6], atol=0.1)


def test_gap_report_names_where():
    s = C.Series("g", ["a", "b", "c", "d", "e"], np.array([1, np.nan, np.nan, 4, np.nan]), "u")
    assert C.describe_gaps(s) == "3 missing values in 2 gaps: rows 2-3 (b to c), row 5 (e)"
    filled = C.handle_gaps(s, interpolate=True)
    np.testing.assert_allclose(filled.values, [1, 2, 3, 4])  # the trailing gap is dropped
    with pytest.raises(C.InputError, match="--interpolate"):
        C.handle_gaps(s)


# --- parity with torch.nn.LSTM ------------------------------------------------------------

def test_parity_forward_backward():
    diffs = C.parity_forward_backward(batch=3, time_steps=5, input_size=2, hidden=4)
    assert set(diffs) >= {"output h_t", "dx", "dW_x", "dW_h", "db", "dh0", "dc0"}
    assert max(diffs.values()) < 1e-12, diffs


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_parity_training_same_loss_curve(optimizer):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6, 1))
    Y = X[:, -2:, 0].sum(1, keepdims=True)
    ours, theirs, pdiff = C.parity_training(X, Y, hidden=5, optimizer=optimizer, lr=0.05,
                                            epochs=4, batch_size=20)
    assert len(ours) == len(theirs) == 8
    assert np.max(np.abs(ours - theirs)) < 1e-10 and pdiff < 1e-10
    assert ours[-2:].mean() < ours[:2].mean()  # it did train


def test_parity_training_notices_a_different_recipe():
    """The same check must fail when the two sides do not train the same way."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 6, 1))
    Y = X[:, -2:, 0].sum(1, keepdims=True)
    a, _, _ = C.parity_training(X, Y, hidden=5, optimizer="sgd", lr=0.05, epochs=1, batch_size=16)
    b, _, _ = C.parity_training(X, Y, hidden=5, optimizer="sgd", lr=0.06, epochs=1, batch_size=16)
    assert np.max(np.abs(a - b)) > 1e-6


# --- roughness ----------------------------------------------------------------------------

def test_roughness_on_known_inputs():
    assert roughness(np.arange(10.0) * 3 + 1) == 0.0  # a straight line
    assert roughness([0, 1, 0, 1, 0]) == pytest.approx(2.0)  # |-2|, |2|, |-2|
    assert roughness(np.arange(6.0) ** 2) == pytest.approx(2.0)  # constant curvature
    assert roughness([[1.0], [2.0], [4.0]]) == pytest.approx(1.0)  # (n, 1) columns are flattened
    with pytest.raises(ValueError, match="at least 3"):
        roughness([1.0, 2.0])


def test_small_learning_rate_gives_smoother_predictions():
    labels = [str(i) for i in range(120)]
    v = 50 + 40 * np.sin(2 * np.pi * np.arange(120) / 11)
    d = C.prepare(C.Series("sine", labels, v, "u"), window=6, difference=False)
    fast, _ = train_variant(d, Knobs(lr=1e-2), epochs=15, hidden=8)
    slow, _ = train_variant(d, Knobs(lr=1e-4), epochs=15, hidden=8)
    assert roughness(slow) < 0.5 * roughness(fast)


def test_study_reports_diverged_runs_and_leaves_them_out():
    labels = [str(i) for i in range(80)]
    v = 50 + 40 * np.sin(2 * np.pi * np.arange(80) / 11)
    d = C.prepare(C.Series("sine", labels, v, "u"), window=6, difference=False)
    wild = Knobs(lr=1e8, optimizer="momentum", reduction="sum", scaled_input=False)  # overflows
    recipes = {"tame": Knobs(lr=1e-2), "wild": wild}
    rows = smoother_study(d, seeds=(0,), epochs=3, hidden=4, recipes=recipes)
    assert rows[0].diverged == [False] and np.isfinite(rows[0].mse[0])
    assert rows[1].diverged == [True] and np.isnan(rows[1].mse[0]) and rows[1].pred is None
    table = study_table(rows, d.y_test_units)
    assert "| wild |" in table and "diverged in 1 of 1 runs" in table
    assert f"| the truth itself | | 0 | {roughness(d.y_test_units):.4g} |" in table
