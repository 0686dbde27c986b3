"""The full adding-problem study of chapter 10, too long for the notebook's time budget.

    python experiments/long_range.py            # the full study (about 2 hours on one shared core)
    python experiments/long_range.py --quick    # a small version to try the script
    python experiments/long_range.py --resume   # keep the runs already in --out, do the rest
    python experiments/long_range.py --criterion-1997 --lengths 10 25 50 100
                                                # re-train those runs, add the 1997 measure

For each seed, each sequence length T and each model (vanilla RNN, GRU, LSTM with about the
same number of parameters), train on fresh batches of the adding problem with Adam and record
the test MSE every `eval_every` steps. Then the LSTM with forget-gate bias 0 against 1.0 at the
longer lengths, on more seeds (a bias-1.0 run whose seed is in the main grid is that run:
the same call, the same numbers). Seeds are the outer loop of the main grid, lengths (shortest
first) of the bias comparison, so a run stopped half way leaves whole seeds, or whole lengths,
behind.

Writes lstm_lib/course/results/long_range.json (chapters 07 and 10 load it); the file is
rewritten after every run. Its layout: "settings", "runs" and "forget_bias" (lists of
`lstm_lib.models.train_adding` results: kind, length, seed, forget_bias, steps, test_mse,
final_mse, solved_step, seconds, ...). BLAS is limited to one thread: for these small
matrices that is faster, and the run is repeatable on one machine.

`--criterion-1997` adds the measure of Hochreiter & Schmidhuber (1997) to the record, under
"criterion_1997": for each main-grid run at --lengths and --seeds it trains the same model
again (the same call, so the same trajectory) and counts, on 2,560 fresh test sequences, the
share whose absolute error is below the 1997 tolerance. Their targets 0.5 + (X1 + X2)/4 span
[0, 1] with an absolute tolerance of 0.04; ours, v1 + v2, span [0, 2], so the tolerance here is
2 x 0.04 = 0.08. It measures at the run's end and at its "solved" step (the first evaluation
with test MSE < 0.01; a second call that stops there). Entries are merged into --out under a
lock on that file, so two calls with different --lengths can run side by side.
"""
import argparse
import fcntl
import json
import pathlib
import platform
import time

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script

from lstm_lib.datasets import adding_problem
from lstm_lib.models import train_adding
from lstm_lib.threads import limit_blas_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent

# about 4.4k parameters each: LSTM 4H(2+H+1), GRU 3H(2+H+1)+H, RNN H(2+H+1), plus the head
HIDDEN = {"RNN": 64, "GRU": 37, "LSTM": 32}


def key(r):
    return r["kind"], r["length"], r["seed"], r["forget_bias"]


TOL_1997 = 2 * 0.04  # their tolerance 0.04 on targets in [0, 1]; ours span [0, 2]
N_1997 = 2560  # their test-set size


def measure_1997(model, T):
    """Share of 2,560 fresh sequences (the same ones for every model and seed at this length)
    whose absolute error is below TOL_1997, the number outside it, and the MSE on them."""
    x, y = adding_problem(N_1997, T, rng=np.random.default_rng(1997))
    model.eval()
    err = np.abs(model.forward(x) - y)[:, 0].astype(np.float64)
    model.train()
    return {"within": round(float(np.mean(err < TOL_1997)), 6), "wrong": int(np.sum(err >= TOL_1997)),
            "mse": round(float(np.mean(err ** 2)), 6), "max_error": round(float(err.max()), 4)}


def criterion_1997(args, steps, common):
    """Re-train the main-grid runs at args.lengths x args.seeds and record the 1997 measure."""
    record = json.loads(args.out.read_text())
    assert record["settings"]["max_steps"] == steps and record["settings"]["hidden"] == HIDDEN
    todo = [r for r in record["runs"] if r["length"] in args.lengths and r["seed"] in args.seeds]
    with limit_blas_threads(1):
        for old in sorted(todo, key=lambda r: (r["seed"], r["length"])):
            kind, T, seed = old["kind"], old["length"], old["seed"]
            model, r = train_adding(kind, T, HIDDEN[kind], steps, seed=seed, **common)
            entry = {"kind": kind, "length": T, "seed": seed, "tolerance": TOL_1997, "n_test": N_1997,
                     "end": dict(measure_1997(model, T), step=r["steps"][-1], test_mse=r["final_mse"]),
                     "stored_final_mse": old["final_mse"], "stored_steps": old["steps"][-1],
                     "seconds": r["seconds"]}
            if r["solved_step"] is not None:
                solved = dict(common, stop_below=0.01)
                model, rs = train_adding(kind, T, HIDDEN[kind], steps, seed=seed, **solved)
                entry["solved"] = dict(measure_1997(model, T), step=rs["steps"][-1], test_mse=rs["final_mse"])
                entry["seconds"] += rs["seconds"]
            else:
                entry["solved"] = None
            print(f"1997 {kind:4s} T={T:3d} seed={seed}: end step {entry['end']['step']} MSE "
                  f"{entry['end']['test_mse']:.4f} (stored {old['final_mse']:.4f}) within {entry['end']['within']:.3f}"
                  + (f"; solved step {entry['solved']['step']} within {entry['solved']['within']:.3f}"
                     if entry["solved"] else "") + f" ({entry['seconds']:.0f} s)", flush=True)
            with open(args.out) as fh:  # another call may be writing the same record
                fcntl.flock(fh, fcntl.LOCK_EX)
                record = json.loads(args.out.read_text())
                same = (kind, T, seed)
                rows = [e for e in record.get("criterion_1997", []) if (e["kind"], e["length"], e["seed"]) != same]
                rows.append(entry)
                rows.sort(key=lambda e: (e["length"], list(HIDDEN).index(e["kind"]), e["seed"]))
                record["criterion_1997"] = rows
                study.write(record, args.out)
                fcntl.flock(fh, fcntl.LOCK_UN)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--resume", action="store_true",
                    help="keep the runs already in --out (same settings) and do only the missing ones")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/long_range.json")
    ap.add_argument("--lengths", type=int, nargs="*", default=[10, 25, 50, 100, 200])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--bias-lengths", type=int, nargs="*", default=[100, 200],
                    help="lengths for the forget-bias comparison")
    ap.add_argument("--bias-seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4],
                    help="seeds for the forget-bias comparison")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--criterion-1997", action="store_true",
                    help="re-train the main-grid runs at --lengths/--seeds and add the 1997 measure to --out")
    args = ap.parse_args()
    steps = 300 if args.quick else args.steps
    common = {"batch_size": 64, "lr": args.lr, "clip": 1.0, "eval_every": 100, "n_test": 1000,
              "stop_below": 0.001}
    if args.criterion_1997:
        return criterion_1997(args, steps, common)
    settings = dict(common, max_steps=steps, hidden=HIDDEN, seeds=args.seeds,
                    bias_lengths=args.bias_lengths, bias_seeds=args.bias_seeds,
                    optimizer="Adam", numpy=np.__version__, python=platform.python_version())
    out = {"description": "adding problem: test MSE (1000 fixed test sequences) during training; "
                          "constant-1 baseline MSE = 1/6; solved = test MSE < 0.01",
           "settings": settings, "runs": [], "forget_bias": []}
    done = {}
    if args.resume and args.out.exists():
        old = json.loads(args.out.read_text())
        same = all(old["settings"].get(k) == v for k, v in common.items()) and \
            old["settings"]["max_steps"] == steps and old["settings"]["hidden"] == HIDDEN
        if same:
            done = {("runs",) + key(r): r for r in old["runs"]}
            done.update({("forget_bias",) + key(r): r for r in old["forget_bias"]})
            print(f"resuming: {len(done)} runs kept from {args.out}")
    start = time.perf_counter()

    def run(section, kind, T, seed, fb=1.0):
        k = (section, kind, T, seed, fb if kind == "LSTM" else None)
        if k not in done and section == "forget_bias" and fb == 1.0:
            k_main = ("runs",) + k[1:]
            if k_main in done:  # the same call as the main grid's run
                done[k] = done[k_main]
        if k not in done:
            _, done[k] = train_adding(kind, T, HIDDEN[kind], steps, seed=seed, forget_bias=fb, **common)
            r = done[k]
            print(f"{section:11s} {kind:4s} T={T:3d} seed={seed} forget_bias={r['forget_bias']} "
                  f"final MSE={r['final_mse']:.4f} solved at {r['solved_step']} ({r['seconds']:.0f} s)",
                  flush=True)
        out[section].append(done[k])
        study.write(out, args.out)

    with limit_blas_threads(1):
        for seed in args.seeds:
            for T in args.lengths:
                for kind in HIDDEN:
                    run("runs", kind, T, seed)
        for T in args.bias_lengths:  # shorter (cheaper) lengths first
            for seed in args.bias_seeds:
                for fb in (0.0, 1.0):
                    run("forget_bias", "LSTM", T, seed, fb)
    out["runs"].sort(key=lambda r: (r["length"], list(HIDDEN).index(r["kind"]), r["seed"]))
    out["forget_bias"].sort(key=lambda r: (r["length"], r["forget_bias"], r["seed"]))
    unique = {key(r): r for r in out["runs"] + out["forget_bias"]}.values()  # shared runs once
    out["total_seconds"] = round(sum(r["seconds"] for r in unique), 1)
    out["wall_seconds_this_call"] = round(time.perf_counter() - start, 1)
    study.write(out, args.out)
    print(f"wrote {args.out}: {out['total_seconds']:.0f} s of training")


if __name__ == "__main__":
    main()
