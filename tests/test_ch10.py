"""Chapter 10: the adding problem (data, training, exercise checkers)."""
import numpy as np
import pytest

from lstm_lib.datasets import adding_problem


def test_adding_problem_statistics():
    n, T = 20_000, 30
    x, y = adding_problem(n, T, rng=np.random.default_rng(0))
    assert x.shape == (n, T, 2) and y.shape == (n, 1) and x.dtype == np.float32
    values, marks = x[..., 0], x[..., 1]
    assert set(np.unique(marks)) == {0.0, 1.0}
    assert (marks.sum(axis=1) == 2).all()
    assert (marks[:, :T // 2].sum(axis=1) == 1).all() and (marks[:, T // 2:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (values * marks).sum(axis=1), rtol=1e-6)
    assert 0 <= values.min() and values.max() < 1
    assert abs(values.mean() - 0.5) < 0.01
    # the target has mean 1 and variance 1/6: the constant 1 scores MSE 1/6
    assert abs(y.mean() - 1) < 0.01
    assert abs(np.mean((y - 1) ** 2) - 1 / 6) < 0.005
    # both marker positions are spread over their halves
    first = marks[:, :T // 2].argmax(axis=1)
    assert len(np.unique(first)) == T // 2


def test_train_adding_learns_short_sequences_and_records_curve():
    from lstm_lib.models import adding_model, train_adding

    assert adding_model("GRU", 8).num_params() == 3 * 8 * (2 + 8 + 1) + 8 + 8 + 1
    with pytest.raises(ValueError):
        adding_model("CNN", 8)
    _, r = train_adding("LSTM", 6, 16, 400, lr=1e-2, eval_every=50, n_test=200)
    assert r["steps"][0] == 50 and len(r["steps"]) == len(r["test_mse"])
    assert r["test_mse"][-1] < r["test_mse"][0] and r["final_mse"] < 0.05


def test_check_adding_batch():
    from lstm_lib.course.exercises import ch10

    assert ch10.check_adding_batch.verdict(lambda n, T, rng: adding_problem(n, T, rng=rng))[0]

    def all_values(n, T, rng):
        x, _ = adding_problem(n, T, rng=rng)
        return x, x[..., 0].sum(axis=1, keepdims=True)

    ok, msg = ch10.check_adding_batch.verdict(all_values)
    assert not ok and "sum of all values" in msg

    def same_half(n, T, rng):
        x, _ = adding_problem(n, T, rng=rng)
        x[..., 1] = 0
        x[:, 0, 1] = x[:, 1, 1] = 1
        return x, x[:, 0:1, 0] + x[:, 1:2, 0]

    ok, msg = ch10.check_adding_batch.verdict(same_half)
    assert not ok and "same half" in msg

    def flat_y(n, T, rng):
        x, y = adding_problem(n, T, rng=rng)
        return x, y[:, 0]

    ok, msg = ch10.check_adding_batch.verdict(flat_y)
    assert not ok and "(n, 1)" in msg

    def three_marks(n, T, rng):
        x, y = adding_problem(n, T, rng=rng)
        x[:, -1, 1] = 1
        return x, y

    ok, msg = ch10.check_adding_batch.verdict(three_marks)
    assert not ok and "exactly 2" in msg
    assert not ch10.check_adding_batch.verdict(None)[0]


def test_check_one_value_mse():
    from lstm_lib.course.exercises import ch10

    assert ch10.check_one_value_mse.verdict(1 / 12)[0]
    ok, msg = ch10.check_one_value_mse.verdict(1 / 6)
    assert not ok and "constant" in msg
    ok, msg = ch10.check_one_value_mse.verdict(1 / np.sqrt(12))
    assert not ok and "standard deviation" in msg


def test_check_gru_trace_names_each_mistake():
    from lstm_lib.course.exercises import ch10

    check = ch10.check_gru_trace.verdict
    assert check(ch10.gru_trace)[0]
    assert check(None)[1].startswith("no answer")
    planted = {"reset_gate": "reset gate r", "carry": "not carried", "shift": "one step late"}
    for switch, words in planted.items():
        value = switch != "carry"  # carry is True when right, the others False
        ok, msg = check(lambda layer, x, s=switch, v=value: ch10._trace(layer, x, **{s: v}))
        assert not ok and words in msg, (switch, msg)
    ok, msg = check(lambda layer, x: ch10.gru_trace(layer, x)[::-1])
    assert not ok and "swapped" in msg
    ok, msg = check(lambda layer, x: tuple(a.transpose(1, 0, 2) for a in ch10.gru_trace(layer, x)))
    assert not ok and "time-major" in msg

    def writes(layer, x):
        layer.params["b"][...] = 0
        return ch10.gru_trace(layer, x)

    ok, msg = check(writes)
    assert not ok and "changed the layer's parameters" in msg

    def late_error(layer, x):
        z, h = ch10.gru_trace(layer, x)
        h = h.copy()
        h[:, 4:] += 0.1
        return z, h

    ok, msg = check(late_error)
    assert not ok and "h is off from step 4" in msg


def test_gru_trace_agrees_with_the_fast_layer():
    from lstm_lib.course.exercises import ch10

    layer, x = ch10.trace_case()
    z, h = ch10.gru_trace(layer, x)
    np.testing.assert_allclose(h, layer.forward(x), atol=1e-10)
    assert ((0 < z) & (z < 1)).all()


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib import cells
    from lstm_lib.course.exercises import ch10
    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "10_long_range_memory.ipynb"
    checks = [("make_batch", ch10.check_adding_batch), ("mse_one_value", ch10.check_one_value_mse),
              ("gru_trace", ch10.check_gru_trace)]
    assert not failing_solutions(notebook, checks, cells=cells)


def test_long_range_results_keep_their_layout():
    """Chapters 07 and 10 read these fields; every claim rests on at least 3 seeds."""
    from lstm_lib.course.results import load_result

    study = load_result("long_range.json")
    settings = study["settings"]
    assert len(settings["seeds"]) >= 3 and len(settings["bias_seeds"]) >= 3
    fields = {"kind", "length", "seed", "forget_bias", "steps", "test_mse", "final_mse", "solved_step"}
    for r in study["runs"] + study["forget_bias"]:
        assert fields <= set(r)
        assert len(r["steps"]) == len(r["test_mse"]) and r["final_mse"] == r["test_mse"][-1]
        solved = [s for s, m in zip(r["steps"], r["test_mse"]) if m < 0.01]
        assert r["solved_step"] == (solved[0] if solved else None)
    cells = {(r["kind"], r["length"]) for r in study["runs"]}
    for kind, T in cells:
        seeds = sorted(r["seed"] for r in study["runs"] if (r["kind"], r["length"]) == (kind, T))
        assert seeds == sorted(settings["seeds"])
    for T in settings["bias_lengths"]:
        for fb in (0.0, 1.0):
            seeds = sorted(r["seed"] for r in study["forget_bias"]
                           if r["length"] == T and r["forget_bias"] == fb)
            assert seeds == sorted(settings["bias_seeds"])
    # a bias-1.0 run whose seed is in the main grid is that run
    main = {(r["length"], r["seed"]): r for r in study["runs"] if r["kind"] == "LSTM"}
    for r in study["forget_bias"]:
        if r["forget_bias"] == 1.0 and (r["length"], r["seed"]) in main:
            assert r["test_mse"] == main[r["length"], r["seed"]]["test_mse"]


def test_long_range_script_reuses_runs_and_resumes(tmp_path):
    import json
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parent.parent / "experiments" / "long_range.py"
    out = tmp_path / "study.json"
    args = [sys.executable, str(script), "--quick", "--out", str(out), "--lengths", "4",
            "--seeds", "0", "--bias-lengths", "4", "--bias-seeds", "0", "1"]
    first = subprocess.run(args, capture_output=True, text=True, check=True)
    trained = [line for line in first.stdout.splitlines() if "final MSE" in line]
    assert len(trained) == 3 + 3  # RNN, GRU, LSTM; then bias 0 (seeds 0, 1) and bias 1 (seed 1)
    study = json.loads(out.read_text())
    assert len(study["runs"]) == 3 and len(study["forget_bias"]) == 4
    again = subprocess.run(args + ["--resume"], capture_output=True, text=True, check=True)
    assert "resuming: 7 runs kept" in again.stdout
    assert not [line for line in again.stdout.splitlines() if "final MSE" in line]
    resumed = json.loads(out.read_text())
    assert resumed["runs"] == study["runs"] and resumed["forget_bias"] == study["forget_bias"]


def test_long_range_record_has_the_1997_measure_for_every_run():
    """Chapter 10 section 5 reads this: every main-grid run re-measured, matching its record."""
    from lstm_lib.course.results import load_result

    study = load_result("long_range.json")
    by_run = {(r["kind"], r["length"], r["seed"]): r for r in study["runs"]}
    crit = study["criterion_1997"]
    assert sorted((e["kind"], e["length"], e["seed"]) for e in crit) == sorted(by_run)
    for e in crit:
        r = by_run[e["kind"], e["length"], e["seed"]]
        assert e["tolerance"] == 0.08 and e["n_test"] == 2560
        assert e["end"]["step"] == r["steps"][-1] and e["end"]["test_mse"] == r["final_mse"]
        assert (e["solved"]["step"] if e["solved"] else None) == r["solved_step"]
        for m in (e["end"], e["solved"]):
            if m:
                assert m["wrong"] == round((1 - m["within"]) * 2560)


def test_long_range_script_adds_the_1997_measure(tmp_path):
    """--criterion-1997 re-trains the runs of a record (the same trajectory) and adds the measure."""
    import json
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parent.parent / "experiments" / "long_range.py"
    out = tmp_path / "study.json"
    base = [sys.executable, str(script), "--quick", "--out", str(out), "--lengths", "4", "--seeds", "0"]
    subprocess.run(base + ["--bias-lengths", "--bias-seeds"], capture_output=True, text=True, check=True)
    done = subprocess.run(base + ["--criterion-1997"], capture_output=True, text=True, check=True)
    assert done.stdout.count("1997 ") == 3
    study = json.loads(out.read_text())
    assert len(study["criterion_1997"]) == 3
    for e in study["criterion_1997"]:
        assert e["end"]["test_mse"] == e["stored_final_mse"] and e["end"]["step"] == e["stored_steps"]
        assert 0 <= e["end"]["within"] <= 1 and e["end"]["wrong"] == round((1 - e["end"]["within"]) * 2560)
