"""The speed benchmark: lstm_lib's recurrent layers against torch.nn and against a plain
per-step NumPy LSTM, each side alone in its own process.

    python -m lstm_lib.bench                       # both tables (see below), ~5 minutes
    python -m lstm_lib.bench --mode cpu            # only CPU time with one thread
    python -m lstm_lib.bench --both-ways           # also with OPENBLAS_CORETYPE=Haswell
    python -m lstm_lib.bench --latency             # also the streaming latency at batch 1
    python -m lstm_lib.bench --json results.json   # also write the numbers

A training step is forward + backward of one layer in float32 (gradients of the weights,
biases and input on every side). Four sides per LSTM shape, three for GRU and RNN:
`lstm_lib`, `torch` (torch.nn), `textbook` (`contestants.TextbookLSTM`: fused gates, a loop
over time, per-step products, weight gradients added up step by step) and `floor` (only
the matrix products of lstm_lib's step, `profiling.matmul_only_step`). Each side runs in a
worker process of its own (`timing.rounds_alone`; one process per side for all shapes):
warm-up, then rounds in which one side at one shape runs while every other process is
stopped, the order rotating; the figures are medians over rounds.
Two ways to time: "wall" (wall clock, all threads: what a user waits for) and "cpu" (CPU
time of the process with one thread: what the code costs, steady on a busy machine).

For a notebook (chapter 12's speed section, chapter 13): `run(configs, rounds=3,
seconds=0.1, clock="cpu", threads=1)` and `print(format_report(result))`; `ratio(result,
kind)` gives lstm_lib/torch of a row to assert a claim with a margin.
"""
import argparse
import json
import os
import platform
import sys
from importlib import metadata

import numpy as np

from .latency import format_latency, latency_table
from .profiling import matmul_flops
from .timing import Side, rounds_alone

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
# (kind, batch, time, input, hidden, target: lstm_lib time / torch time, with all threads)
CONFIGS = [
    ("LSTM", 64, 100, 32, 128, 1.0),
    ("LSTM", 32, 35, 650, 650, 1.2),
    ("LSTM", 32, 50, 1, 64, 1.5),
    ("LSTM", 1, 100, 1, 32, 1.8),
    ("GRU", 64, 100, 32, 128, 0.9),
    ("RNN", 64, 100, 32, 128, 0.8),
]
TEXTBOOK_TARGET = 2.0  # lstm_lib at least this many times faster than the textbook LSTM
FACTORIES = {"lstm_lib": "lstm_lib.contestants:lstm_lib_step",
             "torch": "lstm_lib.contestants:torch_step",
             "textbook": "lstm_lib.contestants:textbook_step",
             "floor": "lstm_lib.contestants:floor_step"}
MODES = {"wall": ("wall", None), "cpu": ("cpu", 1)}  # clock, threads
FORCING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_ENABLE_INSTRUCTIONS",
                "MKL_DEBUG_CPU_TYPE", "MKL_CBWR")


def config_name(cfg):
    kind, B, T, I, H = cfg[:5]
    return f"{kind} {B}x{T}x{I}x{H}"


def parse_config(text):
    """'LSTM:64,100,32,128' or 'LSTM:64,100,32,128:0.9' -> a CONFIGS entry."""
    parts = text.split(":")
    kind = parts[0].upper()
    if kind not in GATES or len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"expected KIND:batch,time,input,hidden[:target] with "
                                         f"KIND in RNN, LSTM, GRU, got {text!r}")
    dims = tuple(int(v) for v in parts[1].split(","))
    if len(dims) != 4 or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected four positive sizes, got {parts[1]!r}")
    target = float(parts[2]) if len(parts) == 3 else None
    return (kind, *dims, target)


def environment_report(env=None):
    """Which environment variables force a BLAS kernel, as a dict."""
    env = os.environ if env is None else env
    return {k: env[k] for k in FORCING_VARS if k in env}


def cpu_name():
    """The CPU model, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def run(configs=CONFIGS, rounds=7, seconds=0.2, clock="wall", threads=None, env=None,
        sides=tuple(FACTORIES), progress=None):
    """Time every configuration, each side alone in its process (`timing.rounds_alone`; one
    worker per side runs all its configurations, one at a time). Returns the result dict (what
    --json writes): machine, versions, BLAS, and one row per configuration with the median
    milliseconds of each side and the ratios."""
    if progress:
        progress(f"timing {len(configs)} configurations ({clock}, threads {threads or 'all'}) ...")
    all_sides = []
    for cfg in configs:
        kind, B, T, I, H, _ = cfg
        kw = {"kind": kind, "batch": B, "time": T, "input": I, "hidden": H}
        all_sides += [Side(f"{s} {config_name(cfg)}", FACTORIES[s], kw, s) for s in sides
                      if not (s == "textbook" and kind != "LSTM")]
    res = rounds_alone(all_sides, rounds=rounds, seconds=seconds, clock=clock, threads=threads,
                       env=env)
    rows = []
    for cfg in configs:
        kind, B, T, I, H, target = cfg
        mine = {s: res["times"][f"{s} {config_name(cfg)}"] for s in sides
                if f"{s} {config_name(cfg)}" in res["times"]}
        ms = {k: 1e3 * float(np.median(v)) for k, v in mine.items()}
        row = {"kind": kind, "batch": B, "time": T, "input": I, "hidden": H, "target": target,
               "ms": ms, "rounds_ms": {k: [1e3 * t for t in v] for k, v in mine.items()},
               "gflops": {k: matmul_flops(GATES[kind], B, T, I, H) / v / 1e6 for k, v in ms.items()}}
        if "torch" in ms:
            row["ratio"] = ms["lstm_lib"] / ms["torch"]
            row["met"] = None if target is None else bool(row["ratio"] <= target)
        if "textbook" in ms:
            row["textbook_speedup"] = ms["textbook"] / ms["lstm_lib"]
        if "floor" in ms:
            row["over_floor"] = ms["lstm_lib"] / ms["floor"]
        rows.append(row)
    info = {s.process: res["info"][s.name] for s in all_sides}
    lib = info.get("lstm_lib", {}).get("threads", {})
    return {"clock": clock, "threads": threads, "rounds": rounds, "dtype": "float32",
            "step": "forward + backward (grads of weights, biases, input)",
            "blas": lib.get("blas", {}), "torch_threads": info.get("torch", {}).get("threads", {})
            .get("torch_threads"), "forcing": environment_report(env), "processor": cpu_name(),
            "python": platform.python_version(), "numpy_version": np.__version__,
            "torch_version": _version("torch"), "results": rows}


def ratio(result, kind, batch=None):
    """lstm_lib time / torch time of the first row of `kind` (and `batch`) in a result."""
    for r in result["results"]:
        if r["kind"] == kind and batch in (None, r["batch"]):
            return r["ratio"]
    raise KeyError(f"no {kind} row with batch {batch} in the result")


def format_report(res, title=None):
    """A result dict as a printable table."""
    b = res["blas"]
    clock = {"wall": "wall clock", "cpu": "CPU time of the process"}[res["clock"]]
    lines = [title] if title else []
    lines.append(f"CPU {res['processor']}, Python {res['python']}, NumPy {res['numpy_version']}, "
                 f"torch {res['torch_version']}")
    lines.append(f"NumPy BLAS: {b.get('library')} {b.get('version') or ''}, kernel "
                 f"{b.get('architecture')}, {b.get('threads')} threads; torch threads "
                 f"{res['torch_threads']}")
    forced = res["forcing"]
    lines.append("BLAS kernel forced by the environment: " + ", ".join(f"{k}={v}" for k, v in forced.items())
                 if forced else "BLAS kernel: the one the library picks for this CPU (nothing forced)")
    lines.append(f"training step (forward + backward), {res['dtype']}, each side alone in its "
                 f"process, median of {res['rounds']} alternating rounds, {clock}")
    head = (f"{'layer':<5} {'B':>3} {'T':>4} {'I':>4} {'H':>4} | {'lstm_lib':>8} {'torch':>8} "
            f"{'textbook':>8} {'floor':>8} ms | {'lib/torch':>9} {'target':>9} | "
            f"{'textbook/lib':>12} {'lib/floor':>9}")
    lines += [head, "-" * len(head)]
    for r in res["results"]:
        ms = r["ms"]
        cell = {k: (f"{ms[k]:8.2f}" if k in ms else f"{'-':>8}") for k in FACTORIES}
        tgt = "" if r.get("met") is None else f"<={r['target']:.1f} " + ("ok" if r["met"] else "NO")
        tb = r.get("textbook_speedup")
        tb = "-" if tb is None else f"{tb:.1f}x " + ("ok" if tb >= TEXTBOOK_TARGET else "NO")
        lines.append(f"{r['kind']:<5} {r['batch']:>3} {r['time']:>4} {r['input']:>4} {r['hidden']:>4} | "
                     f"{cell['lstm_lib']} {cell['torch']} {cell['textbook']} {cell['floor']}    | "
                     f"{r.get('ratio', float('nan')):>9.2f} {tgt:>9} | {tb:>12} "
                     f"{r.get('over_floor', float('nan')):>9.2f}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m lstm_lib.bench", description=(
        "The speed benchmark: lstm_lib's recurrent layers against torch.nn, a textbook NumPy "
        "LSTM and the matrix products alone, each side alone in its own process."))
    ap.add_argument("--mode", choices=["both", "wall", "cpu"], default="both",
                    help="wall: wall clock with all threads; cpu: CPU time with one thread; both "
                    "(default)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
    ap.add_argument("--seconds", type=float, default=0.2,
                    help="approximate length of one round per side (default 0.2)")
    ap.add_argument("--configs", type=parse_config, nargs="+", metavar="KIND:B,T,I,H[:target]",
                    help="configurations to run instead of the course's, e.g. LSTM:64,100,32,128")
    ap.add_argument("--sides", default=",".join(FACTORIES),
                    help=f"comma-separated sides to time (default {','.join(FACTORIES)})")
    ap.add_argument("--both-ways", action="store_true",
                    help="also run every table with OPENBLAS_CORETYPE=Haswell (or, if it is set, "
                    "without it)")
    ap.add_argument("--latency", action="store_true",
                    help="also time one streaming step at batch 1 against torch's cells")
    ap.add_argument("--json", metavar="FILE", help="write all results to FILE")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    sides = tuple(s.strip() for s in args.sides.split(","))
    if "lstm_lib" not in sides or not set(sides) <= set(FACTORIES):
        ap.error(f"--sides must include lstm_lib and be among {', '.join(FACTORIES)}")
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    envs = {"as set": None}
    if args.both_ways:
        other = dict(os.environ)
        if "OPENBLAS_CORETYPE" in other:
            del other["OPENBLAS_CORETYPE"]
            envs["OPENBLAS_CORETYPE unset"] = other
        else:
            other["OPENBLAS_CORETYPE"] = "Haswell"
            envs["OPENBLAS_CORETYPE=Haswell"] = other
    modes = ["wall", "cpu"] if args.mode == "both" else [args.mode]
    out = {}
    for env_name, env in envs.items():
        for mode in modes:
            clock, threads = MODES[mode]
            res = run(args.configs or CONFIGS, rounds=args.rounds, seconds=args.seconds,
                      clock=clock, threads=threads, env=env, sides=sides, progress=progress)
            key = f"{mode}, {env_name}"
            out[key] = res
            print(format_report(res, title=f"== {key}: "
                                f"{'all threads, wall clock' if mode == 'wall' else 'one thread, CPU time'} =="))
            print()
            if args.latency:
                lat = latency_table(rounds=args.rounds, seconds=args.seconds, clock=clock,
                                    threads=threads, env=env)
                out[f"latency, {key}"] = lat
                print(format_latency(lat, clock))
                print()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
