"""Chapter 07's optimiser comparison run on: SGD, Momentum and Adam far beyond the notebook's
160 steps, to see whether the ranking at 160 steps is the ranking near convergence.

    python experiments/optimizers.py            # the full study (about 18 minutes on one shared core)
    python experiments/optimizers.py --quick    # a small version to try the script

The task and model are the notebook's: LSTM(1, 16) + Linear(16, 1) predicting the next value
of 32 sine waves (40 steps), minibatches of 8 (4 updates per epoch), the same learning-rate
grid. SGD and Momentum are matched by their effective step: Momentum with learning rate
lr * (1 - mu) moves, on a steady gradient, as far per step as SGD with lr. Every run records the
training loss per epoch and the loss on 32 other sine waves every `--every` epochs. Writes
lstm_lib/course/results/optimizers.json (chapter 07 loads it).
"""
import argparse
import pathlib
import time

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script

import lstm_lib as L
from lstm_lib.course.training_tasks import sine_batch
from lstm_lib.threads import limit_blas_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
MU = 0.9
EFFECTIVE_STEPS = (0.1, 0.3, 1.0, 3.0)  # SGD's lr, Momentum's lr / (1 - mu)
ADAM_LRS = (0.003, 0.01, 0.03, 0.1, 0.3)


def optimisers():
    """(name, learning rate, effective step, constructor) for every run of the grid."""
    for eff in EFFECTIVE_STEPS:
        yield "SGD", eff, eff, lambda m, lr: L.SGD(m, lr=lr)
        yield "Momentum", round(eff * (1 - MU), 6), eff, lambda m, lr: L.Momentum(m, lr=lr, momentum=MU)
    for lr in ADAM_LRS:
        yield "Adam", lr, None, lambda m, lr: L.Adam(m, lr=lr)


def run(make_opt, lr, seed, epochs, every, data, val):
    L.seed(seed)
    model = L.Sequential(L.LSTM(1, 16), L.Linear(16, 1))
    opt = make_opt(model, lr)
    rng = np.random.default_rng(seed)
    train, val_loss = [], []
    for epoch in range(1, epochs + 1):
        try:
            hist = L.fit(model, L.MSELoss(), opt, *data, epochs=1, batch_size=8, progress=False,
                         rng=rng, on_divergence="raise")
        except L.TrainingDiverged:
            return {"train_loss": train, "val_loss": val_loss, "diverged_at_epoch": epoch}
        train.append(round(hist.epoch_loss[-1], 7))
        if epoch % every == 0 or epoch == epochs:
            val_loss.append([epoch, round(L.evaluate(model, L.MSELoss(), *val), 7)])
    return {"train_loss": train, "val_loss": val_loss, "diverged_at_epoch": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "lstm_lib/course/results/optimizers.json")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args()
    epochs = 20 if args.quick else args.epochs
    data, val = sine_batch(n=32, T=40, seed=0), sine_batch(n=32, T=40, seed=1)
    out = study.new_study("next value of 32 sine waves (40 steps), LSTM(1, 16) + Linear(16, 1), "
                          "batch 8 (4 updates per epoch); train_loss per epoch, val_loss "
                          "[epoch, MSE] on 32 other sine waves; diverged runs stop",
                          epochs=epochs, updates_per_epoch=4, momentum=MU, seeds=args.seeds)
    with limit_blas_threads(1):
        for name, lr, eff, make_opt in optimisers():
            for seed in args.seeds:
                t0 = time.perf_counter()
                r = run(make_opt, lr, seed, epochs, args.every, data, val)
                r.update(optimizer=name, lr=lr, effective_step=eff, seed=seed,
                         seconds=round(time.perf_counter() - t0, 1))
                out["runs"].append(r)
                final = r["train_loss"][-1] if r["train_loss"] else float("nan")
                print(f"{name:8s} lr={lr:<6g} seed={seed} final train loss {final:.2e} "
                      f"({r['seconds']:.0f} s)", flush=True)
                study.write(out, args.out)
    study.finish(out, args.out)



if __name__ == "__main__":
    main()
