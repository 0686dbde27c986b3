"""Side-by-side benchmark: the training step of lstm_lib's recurrent layers against torch.nn.

    python -m lstm_lib.bench                      # all configurations, table on stdout
    python -m lstm_lib.bench --json results.json  # also write the numbers
    python -m lstm_lib.bench --both-ways          # also with OPENBLAS_CORETYPE/L2_SIZE unset

A training step is forward + backward of one layer in float32: outputs for every time step,
then the gradients of the weights, biases, initial state and input (torch is given an input
that requires grad, so both sides compute the same gradients). Both sides use the same
number of threads (torch.set_num_threads is set to NumPy's BLAS thread count). Each round
times a few steps of lstm_lib and of torch back to back, alternating which goes first, and
the reported time is the median over rounds. GFLOP/s counts the matrix products only:
6 * batch * time * gates * hidden * (input + hidden) per training step.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

# (kind, batch, time, input, hidden, target ratio lstm_lib/torch) from COURSE.md
CONFIGS = [
    ("LSTM", 64, 100, 32, 128, 0.9),
    ("LSTM", 32, 35, 650, 650, 1.2),
    ("LSTM", 32, 50, 1, 64, 1.6),
    ("LSTM", 1, 100, 1, 32, 1.8),
    ("GRU", 64, 100, 32, 128, 1.0),
    ("RNN", 64, 100, 32, 128, 1.0),
]
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}

# environment variables that force a BLAS kernel or change how it is tuned
FORCING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_ENABLE_INSTRUCTIONS",
                "MKL_DEBUG_CPU_TYPE", "MKL_CBWR")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
UNSET_FOR_OTHER_WAY = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


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


def matmul_flops(kind, B, T, I, H):
    """Floating-point operations of the matrix products in one forward + backward."""
    return 6 * B * T * GATES[kind] * H * (I + H)


def blas_info():
    """The BLAS NumPy uses: library, version, kernel (architecture) and threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"library": "unknown (pip install threadpoolctl)", "version": None,
                "architecture": None, "threads": None}
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    numpy_blas = [i for i in infos if "numpy" in i.get("filepath", "")] or infos
    if not numpy_blas:
        return {"library": "unknown", "version": None, "architecture": None, "threads": None}
    i = numpy_blas[0]
    return {"library": i.get("internal_api"), "version": i.get("version"),
            "architecture": i.get("architecture"), "threads": i.get("num_threads"),
            "file": os.path.basename(i.get("filepath", ""))}


def environment_report():
    """Which environment variables force a BLAS kernel (or thread count), as a dict."""
    forcing = {k: os.environ[k] for k in FORCING_VARS if k in os.environ}
    threads = {k: os.environ[k] for k in THREAD_VARS if k in os.environ}
    return {"forcing": forcing, "thread_vars": threads}


# --- one training step of each side -------------------------------------------------------

def lib_step_fn(kind, B, T, I, H, dtype=np.float32, seed=0):
    """A function running one forward + backward of the lstm_lib layer."""
    import lstm_lib as L
    rng = np.random.default_rng(seed)
    layer = getattr(L, kind)(I, H, dtype=dtype, rng=rng)
    x = rng.standard_normal((B, T, I)).astype(dtype)
    dy = rng.standard_normal((B, T, H)).astype(dtype)

    def step():
        layer.forward(x)
        return layer.backward(dy)
    return step


def torch_step_fn(kind, B, T, I, H, dtype=np.float32, seed=0):
    """A function running one forward + backward of the matching torch.nn module."""
    import torch
    torch.manual_seed(seed)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    module = getattr(torch.nn, kind)(I, H, batch_first=True).to(tdtype)
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((B, T, I)), dtype=tdtype, requires_grad=True)
    dy = torch.tensor(rng.standard_normal((B, T, H)), dtype=tdtype)

    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = module(x)
        out.backward(dy)
        return x.grad
    return step


def _time_n(fn, n, clock=time.perf_counter):
    t0 = clock()
    for _ in range(n):
        fn()
    return (clock() - t0) / n


def steps_for(fns, seconds, clock=time.perf_counter):
    """How many steps make a round last about `seconds` for the slowest function."""
    for fn in fns:  # warm up: buffers, caches, thread pools
        fn()
        fn()
    one = max(_time_n(fn, 1, clock) for fn in fns)
    return max(1, int(seconds / max(one, 1e-6)))


def compare(fns, rounds=7, seconds=0.2, clock=time.perf_counter):
    """Time each function in `fns` (a dict name -> fn) in interleaved rounds.

    Each round runs every function n times back to back, in an order that rotates from
    round to round; returns name -> list of per-step seconds, one entry per round.
    `clock`: wall-clock time by default; time.thread_time (CPU time of this thread) is
    steadier on a shared machine, and right when everything runs on one thread."""
    names = list(fns)
    n = steps_for(list(fns.values()), seconds, clock)
    times = {k: [] for k in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            times[k].append(_time_n(fns[k], n, clock))
    return times


def run(configs=CONFIGS, rounds=7, seconds=0.2, threads=None, progress=None,
        clock=time.perf_counter):
    """Benchmark every configuration; returns the result dict (also what --json writes).
    threads: limit NumPy's BLAS (and torch) to this many threads; default: as the BLAS has.
    clock: see `compare` (thread_time only makes sense with one thread)."""
    if threads is None:
        return _run(configs, rounds, seconds, progress, clock)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=threads, user_api="blas"):
        return _run(configs, rounds, seconds, progress, clock)


def _run(configs, rounds, seconds, progress, clock):
    import torch
    blas = blas_info()
    threads = blas["threads"] or os.cpu_count()
    torch.set_num_threads(int(threads))
    rows = []
    for cfg in configs:
        kind, B, T, I, H, target = cfg
        if progress:
            progress(f"timing {config_name(cfg)} ...")
        fns = {"lstm_lib": lib_step_fn(kind, B, T, I, H),
               "torch": torch_step_fn(kind, B, T, I, H)}
        times = compare(fns, rounds=rounds, seconds=seconds, clock=clock)
        lib, ref = float(np.median(times["lstm_lib"])), float(np.median(times["torch"]))
        flops = matmul_flops(kind, B, T, I, H)
        rows.append({"kind": kind, "batch": B, "time": T, "input": I, "hidden": H,
                     "lstm_lib_ms": lib * 1e3, "torch_ms": ref * 1e3, "ratio": lib / ref,
                     "target": target, "met": None if target is None else bool(lib / ref <= target),
                     "lstm_lib_gflops": flops / lib / 1e9, "torch_gflops": flops / ref / 1e9,
                     "lstm_lib_rounds_ms": [t * 1e3 for t in times["lstm_lib"]],
                     "torch_rounds_ms": [t * 1e3 for t in times["torch"]]})
    return {"blas": blas, "environment": environment_report(), "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__, "numpy_version": np.__version__,
            "python": platform.python_version(), "machine": platform.machine(),
            "processor": _cpu_name(), "rounds": rounds, "dtype": "float32",
            "clock": getattr(clock, "__name__", str(clock)),
            "step": "forward + backward (grads of weights, biases, input)", "results": rows}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_report(res, title=None):
    """The result dict as a printable table."""
    b, env = res["blas"], res["environment"]
    lines = []
    if title:
        lines.append(title)
    lines.append(f"CPU {res['processor']}, Python {res['python']}, NumPy {res['numpy_version']}, "
                 f"torch {res['torch_version']}")
    lines.append(f"NumPy BLAS: {b['library']} {b['version'] or ''}, kernel {b['architecture']}, "
                 f"{b['threads']} threads; torch threads {res['torch_threads']}")
    if env["forcing"]:
        lines.append("BLAS forced by the environment: "
                     + ", ".join(f"{k}={v}" for k, v in env["forcing"].items()))
    else:
        lines.append("BLAS kernel: chosen by the library for this CPU (no forcing variable set)")
    if env["thread_vars"]:
        lines.append("thread variables: " + ", ".join(f"{k}={v}" for k, v in env["thread_vars"].items()))
    clock = {"thread_time": "CPU time of the calling thread", "perf_counter": "wall clock"}.get(
        res.get("clock"), res.get("clock", "wall clock"))
    lines.append(f"training step (forward + backward), {res['dtype']}, median of {res['rounds']} "
                 f"interleaved rounds, {clock}")
    head = (f"{'layer':<5} {'batch':>5} {'time':>5} {'input':>5} {'hidden':>6} | {'lstm_lib ms':>11} "
            f"{'torch ms':>9} {'ratio':>6} {'target':>7} | {'GFLOP/s lib':>11} {'torch':>6}")
    lines += [head, "-" * len(head)]
    for r in res["results"]:
        tgt = "" if r["target"] is None else f"<={r['target']:.1f}" + (" ok" if r["met"] else " NO")
        if r["target"] == 1.0:
            tgt = "<1 ok" if r["ratio"] < 1 else "<1 NO"
        lines.append(f"{r['kind']:<5} {r['batch']:>5} {r['time']:>5} {r['input']:>5} {r['hidden']:>6} | "
                     f"{r['lstm_lib_ms']:>11.2f} {r['torch_ms']:>9.2f} {r['ratio']:>6.2f} {tgt:>7} | "
                     f"{r['lstm_lib_gflops']:>11.1f} {r['torch_gflops']:>6.1f}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m lstm_lib.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--json", metavar="FILE", help="write the results to FILE")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    ap.add_argument("--seconds", type=float, default=0.2,
                    help="approximate length of one round per side (default 0.2)")
    ap.add_argument("--configs", type=parse_config, nargs="+", metavar="KIND:B,T,I,H[:target]",
                    help="configurations to run instead of the course's, e.g. LSTM:64,100,32,128")
    ap.add_argument("--threads", type=int, default=None,
                    help="limit NumPy's BLAS and torch to this many threads (default: the BLAS's own)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with this thread's CPU time (time.thread_time) instead of the wall "
                    "clock: steadier on a busy machine; needs --threads 1")
    ap.add_argument("--both-ways", action="store_true",
                    help="also run in a subprocess with " + " and ".join(UNSET_FOR_OTHER_WAY) +
                    " unset, and show both tables")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    if args.cpu_time and args.threads != 1:
        ap.error("--cpu-time counts only the calling thread: use it with --threads 1")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    configs = args.configs or CONFIGS
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))

    res = run(configs, rounds=args.rounds, seconds=args.seconds, threads=args.threads,
              progress=progress, clock=clock)
    out = {"as_set": res}
    print(format_report(res, title="== environment as set =="
                        if args.both_ways else None))
    if args.both_ways:
        present = [k for k in UNSET_FOR_OTHER_WAY if k in os.environ]
        print()
        if not present:
            print(f"== other way: skipped, none of {', '.join(UNSET_FOR_OTHER_WAY)} is set, "
                  f"so the kernel above is already the one the library picks ==")
        else:
            other = other_way(args, present)
            out["unset"] = other
            print(format_report(other, title=f"== with {' and '.join(present)} unset "
                                f"(the kernel the BLAS picks by itself) =="))
    if args.json:
        data = out if args.both_ways else res
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
        print(f"\nwrote {args.json}")
    return 0


def other_way(args, unset):
    """Run this benchmark again in a subprocess with the variables in `unset` removed."""
    import tempfile
    env = {k: v for k, v in os.environ.items() if k not in unset}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "other.json")
        cmd = [sys.executable, "-m", "lstm_lib.bench", "--json", path, "--rounds", str(args.rounds),
               "--seconds", str(args.seconds), "--quiet"]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.cpu_time:
            cmd += ["--cpu-time"]
        if args.configs:
            cmd += ["--configs"] + [f"{c[0]}:{c[1]},{c[2]},{c[3]},{c[4]}"
                                    + ("" if c[5] is None else f":{c[5]}") for c in args.configs]
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        with open(path) as f:
            return json.load(f)


if __name__ == "__main__":
    sys.exit(main())
