"""Tests of the command `python -m lstm_lib compare` (lstm_lib/__main__.py on lstm_lib.race).

The command runs as a real subprocess; all the runs start together in one fixture so the whole
file stays at a few seconds. Every run but the one of `test_torch_models_in_the_table` uses
torch-free models only, so these tests run without torch; that one is skipped without it."""
import importlib.util
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from lstm_lib.forecasting import prepare
from lstm_lib.race import MODELS
from lstm_lib.series import read_csv

HAS_TORCH = importlib.util.find_spec("torch") is not None
TORCH_FREE = ",".join(k for k, m in MODELS.items() if not m.needs_torch)


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
    tiny = ["--models", TORCH_FREE, "--epochs", "1", "--seeds", "1", "--no-plots"]  # the case's own
    procs = {name: run_cli(*tiny, *[a.format(**files) for a in args])  # --models comes last and wins
             for name, (args, _) in BAD.items()}
    out = files["tmp"] + "/out"
    procs["good"] = run_cli("--csv", files["good"], "--column", "value", "--window", "8",
                            "--epochs", "2", "--seeds", "2", "--models", "naive,linear,lstm_lib",
                            "--out", out, "--plotlyjs", "cdn")
    if HAS_TORCH:
        procs["torch"] = run_cli("--csv", files["good"], "--column", "value", "--window", "8",
                                 "--hidden", "4", "--models", "torch_lstm,torch_lstm_one_bias,torch_cnn,lstm_lib_torch_init",
                                 *tiny[2:])
    procs["interpolate"] = run_cli("--csv", files["gappy"], "--column", "value", "--window", "8",
                                   "--models", "naive,linear", "--interpolate", *tiny)
    procs["help"] = run_cli("--help")
    hide_torch = ("import sys; sys.modules['torch'] = None; from lstm_lib.__main__ import main; "
                  "sys.exit(main(['compare', '--models', 'naive,torch_gru', '--no-plots']))")
    procs["no torch"] = subprocess.Popen([sys.executable, "-c", hide_torch], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
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
    assert set(rows) == {MODELS[k].name for k in ("naive", "linear", "lstm_lib")}
    assert "±" in rows[MODELS["lstm_lib"].name] and "±" not in rows["naive (last value)"]  # 2 seeds, 1 run
    # the naive row's MSE (in the series' units) is the one computed here from the file
    data = prepare(read_csv(files["good"], "value"), window=8)
    expected = np.mean((data.series.values[data.test_index - 1] - data.y_test_units) ** 2)
    shown = float(rows["naive (last value)"].split("|")[4])  # model, parameters, scaled, units
    assert shown == pytest.approx(expected, rel=5e-3)
    assert re.search(r"\[ ?1/4\]", stderr)  # progress: 2 baselines + 1 model x 2 seeds
    for name in ("predictions.png", "predictions.html", "results.json"):
        assert (pathlib.Path(out) / name).stat().st_size > 0
    assert "cdn.plot.ly" in (pathlib.Path(out) / "predictions.html").read_text()


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch (the PyTorch models of the race)")
def test_torch_models_in_the_table(runs):
    code, stdout, stderr = runs["torch"]
    assert code == 0, stderr
    for key in ("torch_lstm", "torch_lstm_one_bias", "torch_cnn", "lstm_lib_torch_init"):
        assert f"| {MODELS[key].name} |" in stdout


def test_interpolate_fills_the_gaps(runs):
    code, stdout, stderr = runs["interpolate"]
    assert code == 0, stderr
    assert "interpolated 4 missing values in 2 gaps" in stderr
    assert "| linear AR (least squares) |" in stdout


def test_help_documents_every_option(runs):
    code, text, _ = runs["help"]
    assert code == 0
    for opt in ("--series", "--csv", "--column", "--date-column", "--interpolate", "--window",
                "--test-fraction", "--val-fraction", "--no-difference", "--models", "--seeds", "--epochs", "--hidden",
                "--lr", "--batch-size", "--threads", "--out", "--plotlyjs", "--no-plots", "--quiet"):
        assert re.search(rf"{opt}\b.*\n?\s+\S", text), opt


def test_a_torch_model_without_torch_is_bad_input(runs):
    """`import torch` fails in this run (sys.modules['torch'] = None): one line, exit 2."""
    code, _, stderr = runs["no torch"]
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip() == ("error: PyTorch is not installed (pip install torch); without it, run "
                              "only --models naive,linear,lstm_lib")

