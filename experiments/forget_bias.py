"""Chapter 07's forget-bias ablation with a longer budget and several gap lengths.

    python experiments/forget_bias.py            # the full study (10 to 18 minutes on one shared core)
    python experiments/forget_bias.py --quick    # a small version to try the script

The notebook trains for 8 epochs (128 Adam steps) on sequences of 50 and finds that bias 0
learns nothing while bias 1 does; chapter 10 finds only a modest effect of the same bias with
thousands of steps on the adding problem. This study asks where the difference comes from:
the same task, model and optimiser as the notebook (remember the first of T inputs, 512
training sequences, LSTM(1, 8), Adam lr 0.01, batch 32), gaps T = 20, 30, 50, forget bias 0 and
1, five seeds, up to 250 epochs (4000 steps). Each run records the validation MSE (256 other
sequences) and the training loss after every epoch (a run whose validation MSE rises again can
then be told apart: overfitting if its training loss stays low, training falling apart if that
rises too). Writes lstm_lib/course/results/forget_bias.json.
"""
import argparse
import pathlib
import time

import study_output as study  # experiments/study_output.py, next to this script

import lstm_lib as L
from lstm_lib.course.training_tasks import first_sign_task
from lstm_lib.threads import limit_blas_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLVED = 0.1  # validation MSE below this: the sign is remembered (predicting 0 gives 1)


def run(T, bias, seed, epochs):
    train, val = first_sign_task(512, T, seed=0), first_sign_task(256, T, seed=1)
    L.seed(seed)
    model = L.Sequential(L.LSTM(1, 8, forget_bias=bias), L.LastStep(), L.Linear(8, 1))
    hist = L.fit(model, L.MSELoss(), L.Adam(model, lr=0.01), *train, epochs=epochs,
                 batch_size=32, val=val, progress=False)
    return [round(v, 5) for v in hist.val_loss], [round(v, 5) for v in hist.epoch_loss]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/forget_bias.json")
    ap.add_argument("--lengths", type=int, nargs="*", default=[20, 30, 50])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=250)
    args = ap.parse_args()
    epochs = 3 if args.quick else args.epochs
    out = study.new_study("remember the first of T inputs (first_sign_task), 512 training and 256 "
                          "validation sequences, LSTM(1, 8) + Linear(8, 1) on the last step, Adam "
                          "lr 0.01, batch 32 (16 steps per epoch); val_mse and train_loss (mean "
                          "over the epoch's batches) after each epoch; "
                          f"solved = validation MSE < {SOLVED}",
                          epochs=epochs, steps_per_epoch=16, solved_below=SOLVED, seeds=args.seeds)
    with limit_blas_threads(1):
        for T in args.lengths:
            for bias in (0.0, 1.0):
                for seed in args.seeds:
                    t0 = time.perf_counter()
                    val, train_loss = run(T, bias, seed, epochs)
                    solved = next((e + 1 for e, v in enumerate(val) if v < SOLVED), None)
                    out["runs"].append({"length": T, "forget_bias": bias, "seed": seed,
                                        "val_mse": val, "train_loss": train_loss,
                                        "solved_epoch": solved,
                                        "seconds": round(time.perf_counter() - t0, 1)})
                    print(f"T={T:3d} bias={bias:g} seed={seed}: solved at epoch {solved}, final "
                          f"{val[-1]:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
                    study.write(out, args.out)
    study.finish(out, args.out)



if __name__ == "__main__":
    main()
