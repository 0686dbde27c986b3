"""Command line of lstm_lib: `python -m lstm_lib compare [options]` (see --help)."""
import argparse
import json
import os
import sys
import time

DESCRIPTION = """\
The chapter-12 training race, headless. One-step-ahead forecasting on a real series: a naive
last-value baseline, a linear autoregressive baseline (least squares), the lstm_lib LSTM (with
its own initialisation and with PyTorch's), PyTorch's LSTM (with one bias per gate, as
lstm_lib, and with its default two), GRU, RNN and a 1-D CNN, all neural models trained with
the same recipe (Adam, mean squared error, the same minibatches), each run keeping the weights
of its epoch with the lowest MSE on a validation stretch before the test stretch. Prints a
Markdown table of the test MSE on the held-out final stretch (scaled, and in the series'
units), mean ± std over seeds; writes predictions.png (matplotlib), predictions.html (plotly)
and results.json into --out."""

EPILOG = """\
examples:
  python -m lstm_lib compare
  python -m lstm_lib compare --series sunspots --no-difference --window 12
  python -m lstm_lib compare --csv my.csv --column sales --date-column month --interpolate

exit status: 0 on success, 2 for bad input (the message says what is wrong; no traceback)."""


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def build_parser():
    from .race import MODELS, Recipe
    from .series import BUNDLED

    r = Recipe()
    ap = argparse.ArgumentParser(prog="python -m lstm_lib", description="lstm_lib command line.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    c = sub.add_parser("compare", help="the chapter-12 training race (see compare --help)",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    data = c.add_argument_group("data")
    data.add_argument("--series", default="co2_monthly", choices=sorted(BUNDLED),
                      help="bundled series to use when no --csv is given (default: co2_monthly, "
                           "monthly Mauna Loa CO2 1958-2001; co2_weekly has gaps: add --interpolate)")
    data.add_argument("--csv", metavar="FILE", help="a CSV file with a header row to read the series from")
    data.add_argument("--column", metavar="NAME", help="the numeric column of --csv to forecast (required with --csv)")
    data.add_argument("--date-column", metavar="NAME",
                      help="column of --csv with dates or times for the plots and messages "
                           "(optional; default: the first column if it is not --column, else row numbers)")
    data.add_argument("--interpolate", action="store_true",
                      help="fill missing values (empty cells, NaN, NA) by linear interpolation "
                           "between their neighbours instead of stopping with a report of the gaps")
    prep = c.add_argument_group("split, scaling, window")
    prep.add_argument("--window", type=positive_int, default=24,
                      help="past values the models see to predict the next one (default: 24)")
    prep.add_argument("--test-fraction", type=positive_float, default=0.2, metavar="F",
                      help="the final fraction of the series held out as the test stretch (default: 0.2)")
    prep.add_argument("--val-fraction", type=float, default=0.15, metavar="F",
                      help="the fraction of the series before the test stretch used as the "
                           "validation stretch, on which each run's epoch is chosen; 0: none, "
                           "every run trains all --epochs (default: 0.15)")
    prep.add_argument("--no-difference", dest="difference", action="store_false",
                      help="model the values themselves instead of the changes v[t] - v[t-1] "
                           "(the default models changes, so a trend cannot carry the test stretch "
                           "outside the range seen in training)")
    train = c.add_argument_group("training")
    train.add_argument("--models", default=",".join(MODELS), metavar="LIST",
                       help="comma-separated models to run, from: " + ", ".join(MODELS) +
                            " (default: all)")
    train.add_argument("--seeds", type=positive_int, default=3,
                       help="number of seeds (0, 1, ...) per neural model; the table shows mean ± std (default: 3)")
    train.add_argument("--epochs", type=positive_int, default=r.epochs,
                       help=f"most training epochs of each neural model; the epoch with the "
                            f"lowest validation MSE is kept (default: {r.epochs})")
    train.add_argument("--hidden", type=positive_int, default=r.hidden,
                       help=f"hidden size of the recurrent models; the CNN has hidden/2 channels "
                            f"(default: {r.hidden})")
    train.add_argument("--lr", type=positive_float, default=r.lr,
                       help=f"Adam learning rate (default: {r.lr:g})")
    train.add_argument("--batch-size", type=positive_int, default=r.batch_size,
                       help=f"minibatch size (default: {r.batch_size})")
    train.add_argument("--threads", type=positive_int, default=1,
                       help="CPU threads for PyTorch and for NumPy's BLAS (default: 1, the fastest "
                            "for models this small)")
    out = c.add_argument_group("output")
    out.add_argument("--out", default=os.path.join("out", "compare"), metavar="DIR",
                     help="folder for predictions.png, predictions.html and results.json "
                          "(default: out/compare)")
    out.add_argument("--plotlyjs", choices=["inline", "cdn"], default="inline",
                     help="inline: predictions.html embeds plotly.js (about 5 MB, works offline; "
                          "the default); cdn: a small file that loads plotly.js from the internet")
    out.add_argument("--no-plots", action="store_true", help="do not write the plots")
    out.add_argument("--quiet", action="store_true", help="no progress lines (they go to stderr)")
    out.add_argument("--debug", action="store_true",
                     help="show the Python traceback if something unexpected fails")
    return ap


def set_threads(n, torch_too=True):
    """Limit NumPy's BLAS (and PyTorch, if torch_too) to n threads for the rest of the process
    (tiny matrices run fastest on one). NumPy's limit is `threads.limit_blas_threads`, entered
    and returned: its __exit__ puts the threads back."""
    from .threads import limit_blas_threads

    limiter = limit_blas_threads(n)
    limiter.__enter__()
    if torch_too:
        try:
            import torch

            torch.set_num_threads(n)
        except ImportError:
            pass
    return limiter


def compare_command(args):
    """`python -m lstm_lib compare`: read the series, run the race, print the table, write the
    plots and results.json."""
    import matplotlib

    matplotlib.use("Agg")
    from .race import MODELS, Recipe, check_models, results_dict, results_table, run_race
    from .race_plots import write_plots
    from .series import read_series

    def log(text):
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    models = check_models(m.strip() for m in args.models.split(",") if m.strip())
    series = read_series(args.series, args.csv, args.column, args.date_column, args.interpolate)
    for note in series.notes:
        log(f"note: {note}")
    set_threads(args.threads, torch_too=any(MODELS[m].needs_torch for m in models))
    recipe = Recipe(hidden=args.hidden, lr=args.lr, batch_size=args.batch_size, epochs=args.epochs)
    race = run_race(series, window=args.window, test_fraction=args.test_fraction,
                    difference=args.difference, models=models, seeds=list(range(args.seeds)),
                    recipe=recipe, val_fraction=args.val_fraction, log=log)
    print(race.summary() + "\n")
    print(results_table(race))
    if not args.no_plots:
        png, html = write_plots(race, args.out, plotlyjs=args.plotlyjs)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results_dict(race), f, indent=1)
        print(f"\nwrote {png}, {html} (plotly.js {args.plotlyjs}) and "
              f"{os.path.join(args.out, 'results.json')}")
    log(f"finished in {time.perf_counter() - started:.1f} s")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .series import InputError

    try:
        return compare_command(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: say what, without a traceback unless asked
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug to see "
              f"where)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
