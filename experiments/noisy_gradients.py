"""Chapter 08's bug 1 at every scale: gradient sums that start from noise instead of zeros.

    python experiments/noisy_gradients.py            # the full sweep (about 2 minutes on one shared core)
    python experiments/noisy_gradients.py --quick    # a small version to try the script

The planted bug starts each weight gradient at `np.random.randn`-scale noise (standard
deviation 1). How small must the noise be before the overfitting test stops noticing? For
noise scales from 0 to 1, with Adam (lr 0.01, the test's optimiser) and plain SGD (lr 0.1),
several seeds: LSTM(1, 16) + Linear(16, 1) memorises one sine wave of 60 steps for 400
full-batch steps (`diagnostics.overfit_test`, the course's threshold 1e-3). The layer is
`planted_bugs.NoisyGradLSTM`, the same bug on the fast layer (equal to RandomInitGradLSTM's
gradients at scale 1). Writes lstm_lib/course/results/noisy_gradients.json.
"""
import argparse
import pathlib

import numpy as np
import study_output as study  # experiments/study_output.py, next to this script

import lstm_lib as L
from lstm_lib import diagnostics
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.threads import limit_blas_threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCALES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
OPTIMISERS = {"Adam": lambda m: L.Adam(m, lr=0.01), "SGD": lambda m: L.SGD(m, lr=0.1)}


def sine_wave(T=60):
    wave = np.sin(2 * np.pi * np.arange(T + 1) / 20).astype(np.float32)[None, :, None]
    return wave[:, :-1], wave[:, 1:]  # (1, T, 1) inputs, next values


def run(opt_name, scale, seed, steps):
    L.seed(seed)
    model = L.Sequential(bugs.NoisyGradLSTM(1, 16, noise_scale=scale, noise_seed=seed),
                         L.Linear(16, 1))
    report = diagnostics.overfit_test(model, L.MSELoss(), OPTIMISERS[opt_name](model),
                                      *sine_wave(), steps=steps)
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, to try the script")
    ap.add_argument("--out", type=pathlib.Path,
                    default=ROOT / "lstm_lib/course/results/noisy_gradients.json")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    args = ap.parse_args()
    steps = 20 if args.quick else 400
    out = study.new_study("overfitting test (one sine wave, 60 steps, LSTM(1, 16) + Linear(16, 1), "
                          f"{steps} full-batch steps) with noise of the given standard deviation "
                          "added to every weight gradient (NoisyGradLSTM); final_loss is the "
                          "test's last loss, median_last_50 the median of its last 50",
                          steps=steps, target=diagnostics.OVERFIT_TARGET, scales=SCALES,
                          optimisers={"Adam": "lr 0.01", "SGD": "lr 0.1"}, seeds=args.seeds)
    with limit_blas_threads(1):
        for opt_name in OPTIMISERS:
            for scale in SCALES:
                for seed in args.seeds:
                    r = run(opt_name, scale, seed, steps)
                    out["runs"].append({"optimiser": opt_name, "noise_scale": scale, "seed": seed,
                                        "final_loss": float(f"{r.losses[-1]:.4g}"),
                                        "median_last_50": float(f"{np.median(r.losses[-50:]):.4g}"),
                                        "passed": r.passed})
                    print(f"{opt_name} scale {scale:g} seed {seed}: final loss {r.losses[-1]:.2e}",
                          flush=True)
                study.write(out, args.out)
    study.finish(out, args.out)



if __name__ == "__main__":
    main()
