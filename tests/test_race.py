"""The library behind chapter 12's race, in-process: reading a series (lstm_lib.series), the
forecasting data (forecasting), the baselines (forecasters), the race itself (race) and the
torch guard. Torch-free but for the tests that ask for torch. The command line is
test_compare.py; parity with torch is test_recurrent_parity.py."""
import sys

import numpy as np
import pytest

from lstm_lib import datasets, forecasters, interop, race, series
from lstm_lib.forecasting import prepare
from lstm_lib.race_plots import plot_plotly, plot_png
from lstm_lib.series import InputError, Series


def write_csv(path, text):
    path.write_text(text)
    return str(path)


# --- reading a series ---------------------------------------------------------------------

def test_csv_reader_labels_missing_values_and_errors(tmp_path):
    f = write_csv(tmp_path / "s.csv", "month,sales,note\n2000-01,1.5,a\n2000-02,,b\n2000-03,NA,c\n"
                                      "\n2000-04,4,d\n")
    s = series.read_csv(f, "sales")
    assert s.name == "s.csv" and s.unit == "sales"
    assert s.labels == ["2000-01", "2000-02", "2000-03", "2000-04"]  # the first column; blank row skipped
    np.testing.assert_array_equal(s.values, [1.5, np.nan, np.nan, 4.0])
    assert series.read_csv(f, "sales", date_column="note").labels == ["a", "b", "c", "d"]
    only = write_csv(tmp_path / "v.csv", "v\n1\n2\n")
    assert series.read_csv(only, "v").labels == ["row 1", "row 2"]
    for column, words in (("note", "not numeric: 4 of 4"), ("price", "no column 'price'"),
                          (None, "name the column to forecast with --column")):
        with pytest.raises(InputError, match=words):
            series.read_csv(f, column)
    with pytest.raises(InputError, match="no date column 'day'"):
        series.read_csv(f, "sales", date_column="day")
    with pytest.raises(InputError, match="header row but no data rows"):
        series.read_csv(write_csv(tmp_path / "h.csv", "a,b\n"), "a")
    with pytest.raises(InputError, match="file not found"):
        series.read_csv(tmp_path / "nope.csv", "a")


def test_bundled_series_are_read_by_the_one_csv_reader():
    s = series.load_bundled("co2_weekly")
    assert s.name == "co2_weekly" and s.unit == "ppm" and len(s.values) == 2284
    assert np.isnan(s.values).sum() == 59  # the gaps data/README.md documents
    labels, values = datasets.load_series("co2_weekly")  # the same series as two arrays
    assert labels == s.labels and np.array_equal(values, s.values, equal_nan=True)
    with pytest.raises(InputError, match="unknown series 'co3'"):
        series.load_bundled("co3")
    assert isinstance(InputError("x"), ValueError)  # datasets.load_series raised ValueError before


def test_read_series_checks_its_arguments_and_the_gaps(tmp_path):
    assert series.read_series("sunspots").name == "sunspots"
    with pytest.raises(InputError, match="--column and --date-column need --csv"):
        series.read_series(column="value")
    with pytest.raises(InputError, match="--csv needs --column"):
        series.read_series(csv_path="x.csv")
    with pytest.raises(InputError, match="59 missing values"):
        series.read_series("co2_weekly")
    filled = series.read_series("co2_weekly", interpolate=True)
    assert not np.isnan(filled.values).any() and "interpolated 59 missing values" in filled.notes[0]


def test_gap_report_names_where():
    s = Series("g", ["a", "b", "c", "d", "e"], np.array([1, np.nan, np.nan, 4, np.nan]), "u")
    assert series.describe_gaps(s) == "3 missing values in 2 gaps: rows 2-3 (b to c), row 5 (e)"
    filled = series.fill_gaps(s, interpolate=True)
    np.testing.assert_allclose(filled.values, [1, 2, 3, 4])  # the trailing gap is dropped
    assert "dropped 0 missing value(s) at the start and 1 at the end" in filled.notes[-1]
    with pytest.raises(InputError, match="--interpolate"):
        series.fill_gaps(s)


def test_x_axis_reads_dates_years_or_positions():
    assert series.x_axis(["2000-01-01", "2000-02-01"]).dtype.kind == "M"
    assert series.x_axis(["1700", "1701"])[1] == np.datetime64("1701-01-01")
    np.testing.assert_array_equal(series.x_axis(["0", "12", "2.5"]), [0.0, 12.0, 2.5])  # not years
    np.testing.assert_array_equal(series.x_axis(["row a", "row b"]), [0, 1])


# --- forecasting data and baselines -------------------------------------------------------

def test_split_scaling_and_windows_do_not_leak():
    v = np.concatenate([np.arange(80.0), 1000 + np.arange(20.0)])  # the test part is far off
    s = Series("toy", [str(i) for i in range(100)], v, "u")
    d = prepare(s, window=5, test_fraction=0.2, difference=False)
    assert d.n_test == 20 and list(d.test_index) == list(range(80, 100))
    assert d.scaler.mean == pytest.approx(39.5)  # fitted on the first 80 values only
    assert d.X_train.shape == (75, 5, 1) and d.X_test.shape == (20, 5, 1)
    np.testing.assert_allclose(d.to_units(d.y_test[:, 0]), d.y_test_units, rtol=1e-6)
    dd = prepare(s, window=5, test_fraction=0.2, difference=True)
    np.testing.assert_allclose(dd.to_units(dd.y_test[:, 0]), dd.y_test_units, rtol=1e-6)
    # the naive forecast is the last known value, in both modes
    np.testing.assert_allclose(dd.to_units(forecasters.predict_naive(dd)[:, 0]), v[79:99], rtol=1e-9)
    np.testing.assert_allclose(d.to_units(forecasters.predict_naive(d)[:, 0]), v[79:99], rtol=1e-6)


def test_validation_stretch_lies_between_training_and_test():
    v = np.arange(100.0)
    s = Series("toy", [str(i) for i in range(100)], v, "u")
    d = prepare(s, window=5, test_fraction=0.2, difference=False, val_fraction=0.15)
    assert (d.n_val, d.val_start, d.test_start) == (15, 65, 80)
    assert d.scaler.mean == pytest.approx(32.0)  # fitted on the first 65 values only
    assert d.X_train.shape == (60, 5, 1) and d.X_val.shape == (15, 5, 1) and d.X_test.shape == (20, 5, 1)
    # the targets: training up to value 64, validation 65..79, test 80..99
    np.testing.assert_allclose(d.scaler.inverse(d.y_train[-1]), 64, rtol=1e-6)
    np.testing.assert_allclose(d.scaler.inverse(d.y_val[:, 0]), np.arange(65, 80), rtol=1e-6)
    assert "Validation stretch: the next 15 values (65 to 79)" in d.describe()
    assert prepare(s, window=5).n_val == 0 and len(prepare(s, window=5).X_val) == 0
    with pytest.raises(InputError, match="--val-fraction must be"):
        prepare(s, window=5, val_fraction=0.9)


def test_prepare_says_what_is_too_short():
    s = Series("short", [str(i) for i in range(20)], np.arange(20.0), "u")
    with pytest.raises(InputError, match="too short: 20 values.*use --window 5 or less"):
        prepare(s, window=8)
    with pytest.raises(InputError, match="--window must be at least 1"):
        prepare(s, window=0)
    with pytest.raises(InputError, match="a validation stretch of 2 .*use --window 3 or less"):
        prepare(s, window=5, val_fraction=0.1)


def test_linear_baseline_recovers_an_ar_process():
    rng = np.random.default_rng(0)
    v = np.zeros(400)
    for t in range(2, 400):
        v[t] = 0.6 * v[t - 1] - 0.3 * v[t - 2] + rng.standard_normal()
    d = prepare(Series("ar2", list(map(str, range(400))), v, "u"), window=2, difference=False)
    w, _ = forecasters.fit_linear(d)
    np.testing.assert_allclose(w, [-0.3, 0.6], atol=0.1)


# --- the race -----------------------------------------------------------------------------

def sine(n=120):
    t = np.arange(n)
    return Series("sine", [str(i) for i in t], 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t, "u")


def test_keep_best_epoch_restores_the_best_weights():
    curve = iter([0.5, 0.3, 0.4, 0.35])
    state = {"w": 0}

    def train_epoch():
        state["w"] += 1

    epoch, seen = forecasters.keep_best_epoch(train_epoch, lambda: next(curve), lambda: dict(state),
                                              lambda saved: state.update(saved), epochs=4)
    assert epoch == 2 and seen == [0.5, 0.3, 0.4, 0.35] and state["w"] == 2
    state["w"] = 0  # without a validation stretch: every epoch, the last weights
    assert forecasters.keep_best_epoch(train_epoch, lambda: None, lambda: dict(state),
                                       lambda saved: state.update(saved), epochs=3) == (3, None)
    assert state["w"] == 3


def test_run_race_scores_every_model_on_every_seed():
    lines = []
    result = race.run_race(sine(), window=8, models=("naive", "linear", "lstm_lib"), seeds=(0, 1),
                           recipe=race.Recipe(hidden=4, epochs=2), log=lines.append)
    rows = {r.key: r for r in result.results}
    assert [len(rows[k].mse) for k in ("naive", "linear", "lstm_lib")] == [1, 1, 2]  # baselines once
    d = result.data
    naive = np.mean((d.series.values[d.test_index - 1] - d.y_test_units) ** 2)
    assert rows["naive"].mse_units[0] == pytest.approx(naive, rel=1e-9)
    assert rows["linear"].mse_units[0] < 0.1 * naive  # a sine is linear-predictable
    assert rows["lstm_lib"].params == 4 * 4 * (1 + 4 + 1) + 4 + 1
    assert rows["lstm_lib"].mse[0] != rows["lstm_lib"].mse[1]  # the seeds differ
    assert lines[0] == d.describe() and sum("done in" in line for line in lines) == 4
    assert all(e in (1, 2) for e in rows["lstm_lib"].epochs) and rows["naive"].epochs == [None]
    assert all(len(c) == 2 for c in rows["lstm_lib"].val_curves)  # validation MSE after each epoch
    table = race.results_table(result)
    assert "| naive (last value) | 0 |" in table and "(one run: deterministic)" in table
    assert "±" in table.splitlines()[-1]  # the lstm_lib row: mean ± std over 2 seeds
    assert "Adam (lr 0.01, batch 64) for at most 2 epochs, hidden 4" in result.summary()
    stored = race.results_dict(result)
    assert stored["results"][2]["mse"] == rows["lstm_lib"].mse
    assert race.results_table(stored) == table  # a stored results.json gives the same table


def test_separated_means_the_gap_exceeds_the_spread():
    def row(key, mse):
        return {"key": key, "name": key, "mse": mse, "mse_units": mse, "epochs": [1] * len(mse),
                "params": 1}
    d = {"unit": "u", "seeds": [0, 1, 2], "results": [row("a", [1.0, 1.1, 0.9]), row("b", [1.3, 1.4, 1.2]),
                                                      row("c", [1.1, 1.2, 1.0])]}
    assert race.scores(d)["a"] == pytest.approx((1.0, np.std([1.0, 1.1, 0.9])))
    assert race.separated(d, "a", "b") and race.separated(d, "b", "a")  # gap 0.3 > 2 x 0.082
    assert not race.separated(d, "a", "c")  # gap 0.1 < 0.16: the seeds overlap



def test_run_race_is_reproducible():
    def once():
        r = race.run_race(sine(), window=8, models=("lstm_lib",), seeds=(3,), recipe=race.Recipe(hidden=4, epochs=2))
        return r.results[0].mse[0]
    assert once() == once()


def test_models_are_checked_once_with_a_message():
    assert race.check_models(["naive", "lstm_lib"]) == ("naive", "lstm_lib")
    with pytest.raises(InputError, match="unknown model.*transformer; choose from naive, linear"):
        race.check_models(["naive", "transformer"])
    with pytest.raises(InputError, match=r"\(none given\)"):
        race.check_models([])
    with pytest.raises(InputError, match="transformer"):  # run_race checks before any training
        race.run_race(sine(), models=("transformer",))
    assert race.BASELINES == ("naive", "linear")


def test_missing_torch_is_one_line_for_the_guard_and_the_race(monkeypatch):
    """Hide torch (an entry of None in sys.modules makes `import torch` fail) and check that
    the one guard and the race say so, and that the torch-free models still run."""
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"^PyTorch is not installed \(pip install torch\)$"):
        interop.require_torch()
    with pytest.raises(InputError, match="without it, run only --models naive,linear,lstm_lib$"):
        race.check_models(["naive", "torch_gru"])
    with pytest.raises(ImportError, match="PyTorch is not installed"):
        interop.to_torch(interop.RNN(1, 2))
    assert race.check_models(["naive", "linear", "lstm_lib"])


def test_plots_show_every_model():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = race.run_race(sine(), window=8, models=("naive", "linear"), seeds=(0,))
    fig = plot_png(result)
    labels = [line.get_label() for line in fig.axes[1].lines]
    assert labels[:3] == ["truth", "naive (last value)", "linear AR (least squares)"]
    np.testing.assert_allclose(fig.axes[1].lines[2].get_ydata(), result.results[1].pred)
    plt.close(fig)
    assert [t.name for t in plot_plotly(result).data] == labels[:3]


# --- the torch forecasters ----------------------------------------------------------------

def test_torch_models_run_with_the_same_recipe():
    pytest.importorskip("torch")
    result = race.run_race(sine(), window=8, seeds=(0,), recipe=race.Recipe(hidden=4, epochs=3),
                           models=("lstm_lib", "lstm_lib_torch_init", "torch_lstm_one_bias",
                                   "torch_lstm", "torch_cnn"))
    rows = {r.key: r for r in result.results}
    assert rows["torch_lstm"].params == rows["lstm_lib"].params + 4 * 4  # torch's second bias
    assert rows["lstm_lib_torch_init"].params == rows["torch_lstm_one_bias"].params == rows["lstm_lib"].params
    assert rows["torch_cnn"].params == (1 * 2 * 3 + 2) + (2 * 2 * 3 + 2) + (2 * 8 + 1)
    assert all(np.isfinite(r.mse[0]) for r in result.results)
    assert all(len(r.val_curves[0]) == 3 for r in result.results if r.val_curves[0] is not None)
    # the twins (same weights, one bias per gate, same batches) train alike up to float32
    # rounding; torch's own two biases train differently
    twin, one_bias, two = (rows[k] for k in ("lstm_lib_torch_init", "torch_lstm_one_bias", "torch_lstm"))
    assert twin.mse[0] == pytest.approx(one_bias.mse[0], rel=1e-4)
    np.testing.assert_allclose(twin.val_curves[0], one_bias.val_curves[0], rtol=1e-4)
    assert abs(two.val_curves[0][-1] / one_bias.val_curves[0][-1] - 1) > 1e-3


def test_fold_biases_keeps_the_function_and_freezes_bias_hh():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(1, 3, batch_first=True)
    x = torch.randn(2, 4, 1)
    before = lstm(x)[0].detach()
    forecasters.fold_biases(lstm)
    torch.testing.assert_close(lstm(x)[0].detach(), before, rtol=1e-6, atol=1e-6)
    assert not lstm.bias_hh_l0.requires_grad and torch.count_nonzero(lstm.bias_hh_l0) == 0


def test_lstm_lib_twin_computes_what_the_torch_model_computes():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = forecasters.torch_model("lstm", 5, window=None).double()
    twin = forecasters.lstm_lib_twin(tm, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 7, 1))
    with torch.no_grad():
        theirs = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(twin.forward(x), theirs, atol=1e-12, rtol=0)
