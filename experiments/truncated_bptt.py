"""Chapter 07's truncated-BPTT comparison run to convergence: windows of 5, 20 and 50 steps on
the echo task (target = the input 10 steps earlier), several seeds, many epochs.

    python experiments/truncated_bptt.py            # the full study (about 5 minutes on one core)
    python experiments/truncated_bptt.py --quick    # a small version to try the script

The notebook trains for 15 epochs, where the curves are still falling, and a window of 50 makes
fewer updates per epoch (1000 / 50 = 20) than a window of 20 (50). Here every window trains for
80 epochs; each run records the test MSE (16 other streams of 400 steps, from step 10 on) after
every epoch together with the number of updates made so far, so the windows can be compared
per epoch (the same data and compute) and per update. Writes
lstm_lib/course/results/truncated_bptt.json (chapter 07 loads it).
"""
import argparse
import pathlib
import time

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script

import lstm_lib as L
from lstm_lib.course.training_tasks import echo_streams
from lstm_lib.threads import limit_blas_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
DELAY = 10


def test_mse(model, X_test, Y_test):
    """MSE over the test streams from step DELAY on (before it the target is a padding 0)."""
    model.reset_state()
    out = model.forward(X_test)
    model.reset_state()
    return float(np.mean((out[:, DELAY:] - Y_test[:, DELAY:]) ** 2))


def run(window, seed, epochs, data, test):
    L.seed(seed)
    model = L.Sequential(L.LSTM(1, 16), L.Linear(16, 1))
    opt = L.Adam(model, lr=0.01)
    curve = []
    for _ in range(epochs):
        L.fit(model, L.MSELoss(), opt, *data, epochs=1, bptt=window, progress=False)
        curve.append(round(test_mse(model, *test), 6))
    return curve


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--out", type=pathlib.Path,
                    default=ROOT / "lstm_lib/course/results/truncated_bptt.json")
    ap.add_argument("--windows", type=int, nargs="*", default=[5, 20, 50])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=80)
    args = ap.parse_args()
    epochs = 3 if args.quick else args.epochs
    data, test = echo_streams(16, 1000, DELAY, seed=0), echo_streams(16, 400, DELAY, seed=1)
    T = data[0].shape[1]
    out = study.new_study(f"echo task (target = input {DELAY} steps earlier), 16 streams of {T} "
                          "steps, LSTM(1, 16) + Linear(16, 1), Adam lr 0.01; test_mse after each "
                          "epoch on 16 other streams of 400 steps (from step 10 on); predicting 0 "
                          "gives MSE 1",
                          epochs=epochs, stream_length=T, delay=DELAY, seeds=args.seeds)
    with limit_blas_threads(1):
        for window in args.windows:
            for seed in args.seeds:
                t0 = time.perf_counter()
                curve = run(window, seed, epochs, data, test)
                out["runs"].append({"window": window, "seed": seed,
                                    "updates_per_epoch": -(-T // window), "test_mse": curve,
                                    "seconds": round(time.perf_counter() - t0, 1)})
                print(f"window {window:3d} seed {seed}: test MSE {curve[-1]:.4f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
                study.write(out, args.out)
    study.finish(out, args.out)



if __name__ == "__main__":
    main()
