"""The benchmark: the separate-process timing harness measures what it should (a planted 2x
slowdown comes out as about 2x), the sides compute what they claim, and the command reports
what it promises. No assertion on how fast anything is: speed is measured by
`python -m lstm_lib.bench`, never asserted in a test."""
import argparse
import json

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import bench, contestants, latency, profiling, timing

SMALL = {"kind": "LSTM", "batch": 8, "time": 20, "input": 8, "hidden": 32}


def _env_finding_this_file():
    """The environment with this folder on PYTHONPATH, so that a worker process can import
    `test_bench:pid_step` wherever pytest runs from (the Colab job runs it from outside the
    checkout, against the installed package)."""
    import os
    import pathlib
    here = str(pathlib.Path(__file__).resolve().parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}


# --- the harness -----------------------------------------------------------------------------

def test_the_harness_measures_a_planted_2x_slowdown_as_about_2x():
    """The same step, once and twice per call, each alone in its own process: the median of
    the round-by-round ratios is about 2, as chapter 13 measures it. (The two sides of one
    round run moments apart, so a busy spell of the machine hits both; the ratio of two
    separate fastest rounds came out 1.51x here with a CPU hog and another test suite running.)"""
    sides = [timing.Side("once", "lstm_lib.contestants:lstm_lib_step", SMALL),
             timing.Side("twice", "lstm_lib.contestants:lstm_lib_step", {**SMALL, "repeat": 2})]
    res = timing.rounds_alone(sides, rounds=7, seconds=0.1, clock="cpu", threads=1)
    ratio = float(np.median(np.array(res["times"]["twice"]) / np.array(res["times"]["once"])))
    assert 1.5 < ratio < 2.6, (ratio, res["times"])  # a 1x or a 3x falls outside
    assert all(len(v) == 7 for v in res["times"].values())
    assert res["info"]["once"]["threads"]["blas"]["threads"] == 1


def test_each_side_runs_in_its_own_process_with_its_threads(tmp_path):
    """The workers are separate processes, with the thread count set through the environment;
    sides given the same `process` share one."""
    sides = [timing.Side(name, "test_bench:pid_step", {"path": str(tmp_path / name)}, proc)
             for name, proc in (("a", None), ("b", "shared"), ("c", "shared"))]
    timing.rounds_alone(sides, rounds=2, seconds=0.001, clock="wall", threads=1, env=_env_finding_this_file())
    pid = {n: (tmp_path / n).read_text() for n in "abc"}
    assert pid["a"] != pid["b"] and pid["b"] == pid["c"]
    assert str(__import__("os").getpid()) not in pid.values()


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="Linux only")
def test_stopped_workers_die_with_a_killed_parent(tmp_path):
    """A benchmark killed mid-way leaves no worker behind, though the workers are stopped."""
    import os
    import subprocess
    import sys
    import time
    code = ("import os, sys; from lstm_lib import timing; "
            "w = timing.Worker([timing.Side('a', 'test_bench:pid_step', "
            f"{{'path': {str(tmp_path / 'a')!r}}})], 'wall', 0.001, 1); "
            "print(w.proc.pid, flush=True); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env_finding_this_file())
    pid = int(out.stdout.split()[0])
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(")")[1].split()[0] == "Z":  # a zombie is dead too
                return
        time.sleep(0.1)
    raise AssertionError(f"worker {pid} is still alive after its parent died")


def pid_step(path):
    """A side that writes its process id and thread variable (for the test above)."""
    import os

    def step():
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    return step


def test_a_side_that_fails_to_build_is_reported():
    with pytest.raises(RuntimeError, match="failed to start.*the textbook side is an LSTM"):
        timing.rounds_alone([timing.Side("x", "lstm_lib.contestants:textbook_step",
                                         {**SMALL, "kind": "GRU"})], rounds=1, seconds=0.001)
    with pytest.raises(ValueError, match="clock"):
        timing.rounds_alone([], clock="sundial")


def test_rounds_in_process_rotate_and_count():
    calls = []
    fns = {k: (lambda k=k: calls.append(k)) for k in "abc"}
    times = timing.rounds_in_process(fns, rounds=3, seconds=1e-9)
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3, "c": 3}
    assert calls[9:12] == ["a", "b", "c"] and calls[12:15] == ["b", "c", "a"]  # after warm-up


# --- the sides ---------------------------------------------------------------------------------

def test_textbook_lstm_equals_the_library_layer(rng):
    lay = L.LSTM(3, 5, dtype=np.float64, rng=rng)
    for p in lay.params.values():
        p[...] += 0.3 * rng.standard_normal(p.shape)
    text = contestants.TextbookLSTM.from_layer(lay)
    x, dh = rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 6, 5))
    np.testing.assert_allclose(text.forward(x), lay.forward(x), atol=1e-12, rtol=0)
    np.testing.assert_allclose(text.backward(dh), lay.backward(dh), atol=1e-12, rtol=0)
    for k in lay.grads:
        np.testing.assert_allclose(text.grads[k], lay.grads[k], atol=1e-11, rtol=0, err_msg=k)


@pytest.mark.parametrize("factory, cls", [("lstm_lib_step", L.LSTM), ("textbook_step", L.ReferenceLSTM)])
def test_a_side_with_repeat_2_runs_its_step_twice(factory, cls, monkeypatch):
    calls = []
    real = cls.forward
    monkeypatch.setattr(cls, "forward", lambda self, x, *a: calls.append(1) or real(self, x, *a))
    once = getattr(contestants, factory)(**SMALL)
    twice = getattr(contestants, factory)(**SMALL, repeat=2)
    once()
    assert len(calls) == 1
    twice()
    assert len(calls) == 3


def test_torch_side_computes_the_input_gradient():
    pytest.importorskip("torch")
    dx = contestants.torch_step(**SMALL)()
    assert tuple(dx.shape) == (8, 20, 8) and float(dx.abs().sum()) > 0


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("I", [1, 3])
def test_matmul_only_step_runs_the_products_of_a_training_step(kind, I, rng, monkeypatch):
    layer = {"RNN": L.RNN, "LSTM": L.LSTM, "GRU": L.GRU}[kind](I, 4, rng=rng)
    x = rng.standard_normal((2, 5, I)).astype(np.float32)
    step = profiling.matmul_only_step(layer, x)
    calls = []
    real_matmul = np.matmul

    class Counting:  # count the products without changing them
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def matmul(*a, **k):
            calls.append(a[0].shape)
            return real_matmul(*a, **k)

    monkeypatch.setattr(profiling, "np", Counting())
    step()
    # input projection (a broadcast multiply when I == 1), dW_x, dW_h and dx; the 5 + 5
    # recurrent products are `ndarray.dot` calls, checked through their results' shapes
    assert len(calls) == (0 if I == 1 else 1) + 3


def test_profile_training_step_parts():
    res = profiling.profile_training_step(L.LSTM, 2, 4, 3, 5, repeat=1, number=1)
    parts = ("total", "matmul", "overhead", "elementwise")
    assert all(res[k] >= 0 for k in parts) and res["total"] > 0
    assert set(res["per_step_us"]) == set(parts)
    assert res["per_step_us"]["total"] == pytest.approx(res["total"] / 4 * 1e6)


def test_matmul_flops():
    # LSTM forward: x W_x (2 B T I 4H) + h W_h (2 B T H 4H); backward twice that
    assert profiling.matmul_flops(4, 2, 3, 5, 7) == 3 * (2 * 2 * 3 * 5 * 28 + 2 * 2 * 3 * 7 * 28)
    assert profiling.matmul_flops(1, 1, 1, 1, 1) == 12


# --- the command --------------------------------------------------------------------------------

def test_benchmark_writes_json_with_the_fields(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "bench.json"
    code = bench.main(["--configs", "LSTM:2,3,2,4:1.2", "GRU:1,2,1,3", "--rounds", "2",
                       "--seconds", "0.001", "--quiet", "--json", str(out), "--mode", "cpu"])
    assert code == 0
    text = capsys.readouterr().out
    assert "kernel" in text and "one thread, CPU time" in text and "textbook/lib" in text
    data = json.loads(out.read_text())
    res = data["cpu, as set"]
    assert {"library", "version", "architecture", "threads"} <= set(res["blas"])
    assert res["blas"]["threads"] == 1 and res["torch_threads"] == 1
    rows = res["results"]
    assert [(r["kind"], r["batch"], r["time"], r["input"], r["hidden"]) for r in rows] == \
        [("LSTM", 2, 3, 2, 4), ("GRU", 1, 2, 1, 3)]
    assert set(rows[0]["ms"]) == {"lstm_lib", "torch", "textbook", "floor"}
    assert set(rows[1]["ms"]) == {"lstm_lib", "torch", "floor"}  # the textbook side is an LSTM
    for r in rows:
        assert all(v > 0 for v in r["ms"].values())
        assert all(len(v) == 2 for v in r["rounds_ms"].values())
        assert r["ratio"] == pytest.approx(r["ms"]["lstm_lib"] / r["ms"]["torch"])
    assert rows[0]["target"] == 1.2 and rows[1]["target"] is None
    assert bench.ratio(res, "GRU") == rows[1]["ratio"]


def test_benchmark_reports_a_forced_kernel(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert bench.environment_report()["OPENBLAS_CORETYPE"] == "Haswell"
    assert bench.environment_report({}) == {}
    res = {"blas": {"library": "openblas", "version": "0", "architecture": "Haswell", "threads": 2},
           "forcing": {"OPENBLAS_CORETYPE": "Haswell"}, "clock": "wall", "processor": "cpu",
           "python": "3", "numpy_version": "2", "torch_version": "2", "torch_threads": 2,
           "rounds": 1, "dtype": "float32", "results": []}
    assert "forced by the environment: OPENBLAS_CORETYPE=Haswell" in bench.format_report(res)


def test_both_ways_gives_the_workers_the_other_kernel(monkeypatch, capsys):
    """--both-ways runs every table again with OPENBLAS_CORETYPE=Haswell in the workers'
    environment (the harness is replaced by a stand-in that records it, to keep this fast)."""
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    seen = []

    def fake(sides, rounds, seconds, clock, threads, env):
        seen.append((clock, threads, None if env is None else env.get("OPENBLAS_CORETYPE")))
        assert {s.process for s in sides} == {"lstm_lib", "torch", "floor"}  # one per side
        return {"times": {s.name: [1e-3] * rounds for s in sides},
                "info": {s.name: {"threads": {"blas": {}, "torch_threads": 1}} for s in sides}}

    monkeypatch.setattr(bench, "rounds_alone", fake)
    bench.main(["--configs", "RNN:1,2,1,2", "--rounds", "1", "--quiet", "--both-ways"])
    assert seen == [("wall", None, None), ("cpu", 1, None), ("wall", None, "Haswell"),
                    ("cpu", 1, "Haswell")]
    assert "OPENBLAS_CORETYPE=Haswell" in capsys.readouterr().out


def test_config_parsing():
    assert bench.parse_config("lstm:64,100,32,128:0.9") == ("LSTM", 64, 100, 32, 128, 0.9)
    assert bench.parse_config("RNN:1,2,3,4") == ("RNN", 1, 2, 3, 4, None)
    for bad in ("CNN:1,2,3,4", "LSTM:1,2,3", "LSTM:0,2,3,4"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_config(bad)
    assert [c[:5] + (c[5],) for c in bench.CONFIGS] == [
        ("LSTM", 64, 100, 32, 128, 1.0), ("LSTM", 32, 35, 650, 650, 1.2), ("LSTM", 32, 50, 1, 64, 1.5),
        ("LSTM", 1, 100, 1, 32, 1.8), ("GRU", 64, 100, 32, 128, 0.9), ("RNN", 64, 100, 32, 128, 0.8)]


# --- latency -------------------------------------------------------------------------------------

def test_latency_table_and_footprint():
    pytest.importorskip("torch")
    rows = latency.latency_table(kinds=("LSTM",), sizes=(8,), rounds=1, seconds=0.001,
                                 clock="cpu", threads=1)
    (row,) = rows
    assert row["lstm_lib_us"] > 0 and row["torch_us"] > 0
    assert row["ratio"] == pytest.approx(row["lstm_lib_us"] / row["torch_us"])
    assert "lstm_lib us" in latency.format_latency(rows, "cpu")
    fp = latency.footprint(L.LSTM(8, 16))
    assert fp["parameters"] == 4 * (8 * 64 + 16 * 64 + 64)  # float32
    assert fp["state"] == 2 * 16 * 4  # h and c at batch 1
    assert fp["work"] >= fp["parameters"]  # the stream's stacked copy of the weights


def test_latency_table_summarises_by_median_or_fastest_round(monkeypatch):
    """summary="fastest" keeps each side's quickest round (a busy machine only adds time);
    "median" the middle one; anything else is refused."""
    rounds = {"lstm_lib LSTM 8": [3e-6, 1e-6, 9e-6], "torch LSTM 8": [4e-6, 8e-6, 2e-6]}
    monkeypatch.setattr(latency, "rounds_alone", lambda sides, **kw: {"times": rounds})
    fastest = latency.latency_table(kinds=("LSTM",), sizes=(8,), summary="fastest")[0]
    median = latency.latency_table(kinds=("LSTM",), sizes=(8,))[0]
    assert (fastest["lstm_lib_us"], fastest["torch_us"]) == pytest.approx((1.0, 2.0))
    assert (median["lstm_lib_us"], median["torch_us"]) == pytest.approx((3.0, 4.0))
    assert "fastest round" in latency.format_latency([fastest], "cpu")
    assert "median of the rounds" in latency.format_latency([median], "cpu")
    with pytest.raises(ValueError, match="summary"):
        latency.latency_table(kinds=("LSTM",), sizes=(8,), summary="mean")

# --- the batch split (chapter 13, Going deeper A) ---------------------------------------------

@pytest.mark.parametrize("kind, B", [("RNN", 420), ("LSTM", 130), ("GRU", 150)])
def test_the_split_layers_run_two_halves_and_equal_one_loop(kind, B, monkeypatch):
    """SplitBatch{RNN,LSTM,GRU} run both time loops on two halves of a batch large enough (the
    BLAS made to report two threads, so the split happens wherever the suite runs) and give the
    outputs, input, weight and state gradients of one loop; with one BLAS thread, one part."""
    rng = np.random.default_rng(0)
    T, I, H = 6, 3, 5
    one = contestants.LAYERS[kind](I, H, dtype=np.float64, rng=np.random.default_rng(1))
    split = contestants.SPLIT_LAYERS[kind](I, H, dtype=np.float64, rng=np.random.default_rng(1))
    x, dh = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    y1, dx1 = one.forward(x), one.backward(dh)
    seen, run = [], contestants.run_on_rows

    def spy(loop, parts):
        seen.append(parts)
        run(loop, parts)
    monkeypatch.setattr(contestants, "run_on_rows", spy)
    monkeypatch.setattr(contestants, "blas_threads", lambda: 1)
    split.forward(x)
    assert seen == [[(0, B)]]  # one BLAS thread: nothing to split
    monkeypatch.setattr(contestants, "blas_threads", lambda: 2)
    seen.clear()
    y2, dx2 = split.forward(x), split.backward(dh)
    assert seen == [[(0, B // 2), (B // 2, B)]] * 2  # forward and backward loops, split
    np.testing.assert_allclose(y2, y1, atol=1e-13, rtol=0)
    np.testing.assert_allclose(dx2, dx1, atol=1e-13, rtol=0)
    for k, g in one.grads.items():
        np.testing.assert_allclose(split.grads[k], g, atol=1e-11, rtol=0, err_msg=k)
    for a, b in zip(split.dstate0, one.dstate0):
        np.testing.assert_allclose(a, b, atol=1e-13, rtol=0)


def test_a_split_with_a_wrong_axis_is_caught(monkeypatch):
    """Plant: a split class that names the wrong batch axis for one array computes something
    else, and the comparison above would see it."""
    class WrongAxis(contestants.SplitBatchLSTM):
        backward_axes = (1, 1, 1, 1, 1, 1, 0, 0, None)  # mult's batch is axis 2, not 1

    monkeypatch.setattr(contestants, "blas_threads", lambda: 2)
    rng = np.random.default_rng(0)
    one = L.LSTM(3, 5, dtype=np.float64, rng=np.random.default_rng(1))
    bad = WrongAxis(3, 5, dtype=np.float64, rng=np.random.default_rng(1))
    x, dh = rng.standard_normal((130, 6, 3)), rng.standard_normal((130, 6, 5))
    one.forward(x), bad.forward(x)
    with pytest.raises(Exception):  # noqa: B017 - a shape error or different numbers
        np.testing.assert_allclose(bad.backward(dh), one.backward(dh), atol=1e-13)


def test_an_error_in_the_second_half_is_raised():
    def loop(lo, hi):
        if lo > 0:
            raise RuntimeError(f"rows {lo}:{hi}")
    with pytest.raises(RuntimeError, match="rows 5:10"):
        contestants.run_on_rows(loop, [(0, 5), (5, 10)])


def test_lstm_lib_step_runs_the_split_layer_when_asked():
    names = {type(c.cell_contents).__name__ for c in
             contestants.lstm_lib_step("GRU", 4, 3, 2, 4, split=True).__closure__
             if isinstance(c.cell_contents, L.Layer)}
    assert names == {"SplitBatchGRU"}
