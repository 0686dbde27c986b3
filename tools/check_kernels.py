"""Do the notebooks' stored outputs hold on other BLAS kernels and thread counts?

    python tools/check_kernels.py                      # every notebook, every setting
    python tools/check_kernels.py notebooks/07_training.ipynb --settings Haswell 1-thread
    python tools/check_kernels.py --list               # the settings and what they set
    python tools/check_kernels.py --python VENV/bin/python   # the same under another environment
                                                       # (e.g. one with Colab's package versions)

Another machine picks another OpenBLAS kernel (SkylakeX, Haswell, Zen, Sandybridge, ...) and
maybe another thread count, and the last bits of a matrix product change with them. A
notebook whose stored outputs hinge on those bits passes on the machine it was recorded on
and fails on the next one. This re-runs nbval (the same comparison `pytest` makes) on each
notebook under several settings, each in its own process with the environment changed for
that process only, and prints a table notebook x setting -> pass / FAIL (with the cells that
failed). Before the runs it asks each setting's NumPy which kernel and how many threads it
really got, so a variable the BLAS ignored cannot pass unnoticed. Exit status 1 if anything
failed.
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# name -> (variables to set, variables to remove); everything else is inherited
SETTINGS = {
    "default": ({}, KERNEL_VARS),
    "Haswell": ({"OPENBLAS_CORETYPE": "Haswell"}, ()),
    "Sandybridge": ({"OPENBLAS_CORETYPE": "Sandybridge"}, ()),
    "1-thread": ({v: "1" for v in THREAD_VARS}, KERNEL_VARS),
    "Haswell-1-thread": ({"OPENBLAS_CORETYPE": "Haswell", **{v: "1" for v in THREAD_VARS}}, ()),
}
DEFAULT_SETTINGS = ("default", "Haswell", "Sandybridge", "1-thread")

PROBE = """
import json, numpy
from threadpoolctl import threadpool_info
blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
i = blas[0] if blas else {}
print(json.dumps({"library": i.get("internal_api"), "kernel": i.get("architecture"),
                  "threads": i.get("num_threads"), "numpy": numpy.__version__}))
"""


def environment(setting, base=None):
    """The environment of one setting: `base` (default os.environ) changed as SETTINGS says."""
    put, drop = SETTINGS[setting]
    env = {k: v for k, v in (base if base is not None else os.environ).items() if k not in drop}
    env.update(put)
    return env


PYTHON = sys.executable  # the interpreter whose packages run the notebooks (--python)


def probe(setting):
    """What NumPy's BLAS reports under a setting: library, kernel, threads."""
    out = subprocess.run([PYTHON, "-c", PROBE], env=environment(setting), cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def expected_kernel_ok(setting, info):
    """Did the BLAS take the kernel/threads the setting asks for? (None: nothing to check)."""
    put, _ = SETTINGS[setting]
    problems = []
    want = put.get("OPENBLAS_CORETYPE")
    if want and info.get("library") == "openblas" and (info.get("kernel") or "").lower() != want.lower():
        problems.append(f"asked for kernel {want}, NumPy's OpenBLAS reports {info.get('kernel')}")
    if put.get("OPENBLAS_NUM_THREADS") == "1" and info.get("threads") != 1:
        problems.append(f"asked for 1 thread, the BLAS reports {info.get('threads')}")
    return problems


FAILED_CELL = re.compile(r"FAILED \S*::Cell (\d+)")


def run_nbval(notebook, setting, timeout):
    """nbval on one notebook under one setting -> (passed, failed cell numbers, seconds, tail)."""
    cmd = [PYTHON, "-m", "pytest", str(notebook), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
           "-rf", "--no-header", "-o", "addopts=", "--nbval", "--nbval-current-env",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg")]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=environment(setting), cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return False, ["timeout"], time.perf_counter() - start, f"over {timeout} s"
    took = time.perf_counter() - start
    text = proc.stdout + proc.stderr
    cells = FAILED_CELL.findall(text)
    passed = proc.returncode == 0
    if not passed and not cells:
        cells = [f"exit {proc.returncode}"]
    return passed, cells, took, "\n".join(text.strip().splitlines()[-15:])


def format_table(notebooks, settings, results):
    """results[(notebook name, setting)] = (passed, cells, seconds, tail) -> the table text."""
    width = max(len(n) for n in notebooks)
    cols = [max(len(s), 12) for s in settings]
    lines = [f"{'notebook':<{width}} | " + " | ".join(f"{s:<{c}}" for s, c in zip(settings, cols))]
    lines.append("-" * len(lines[0]))
    for name in notebooks:
        row = []
        for s, c in zip(settings, cols):
            passed, cells = results[(name, s)][:2]
            mark = "pass" if passed else "FAIL " + ",".join(map(str, cells))
            row.append(f"{mark:<{c}}")
        lines.append(f"{name:<{width}} | " + " | ".join(row))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=pathlib.Path,
                    help="notebooks to check (default: every notebook in notebooks/)")
    ap.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(DEFAULT_SETTINGS))
    ap.add_argument("--jobs", type=int, default=2, help="notebook runs at once (default 2)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per notebook run")
    ap.add_argument("--list", action="store_true", help="print the settings and exit")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--python", default=sys.executable,
                    help="the Python (with pytest and nbval) that runs the notebooks; default: this one")
    args = ap.parse_args(argv)
    global PYTHON
    PYTHON = args.python
    if args.list:
        for name, (put, drop) in SETTINGS.items():
            sets = ", ".join(f"{k}={v}" for k, v in put.items()) or "nothing set"
            print(f"{name:<18} {sets}; unsets {', '.join(drop) or 'nothing'}")
        return 0
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    names = [p.name for p in notebooks]

    print(f"Python: {PYTHON}\nwhat each setting's NumPy reports:")
    bad = []
    for s in args.settings:
        info = probe(s)
        problems = expected_kernel_ok(s, info)
        bad += [f"{s}: {p}" for p in problems]
        print(f"  {s:<18} NumPy {info['numpy']}, {info['library']} kernel {info['kernel']}, "
              f"{info['threads']} threads"
              + ("  <- " + "; ".join(problems) if problems else ""))
    if bad:
        print("settings not applied as asked:\n  " + "\n  ".join(bad))
        return 1

    jobs = [(nb, s) for s in args.settings for nb in notebooks]
    results = {}
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {pool.submit(run_nbval, nb, s, args.timeout): (nb.name, s) for nb, s in jobs}
        for fut in concurrent.futures.as_completed(futures):
            key = futures[fut]
            results[key] = fut.result()
            passed, cells, took, _ = results[key]
            print(f"  {'pass' if passed else 'FAIL':<4} {key[0]} [{key[1]}] {took:.0f} s"
                  + ("" if passed else f" cells {', '.join(map(str, cells))}"), flush=True)
    print(f"\n{len(jobs)} runs in {time.perf_counter() - start:.0f} s\n")
    print(format_table(names, args.settings, results))
    failed = [(k, v) for k, v in results.items() if not v[0]]
    for (name, s), (_, cells, _, tail) in sorted(failed):
        print(f"\n--- {name} [{s}] failed (cells {', '.join(map(str, cells))}):\n{tail}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {f"{n} [{s}]": {"passed": v[0], "cells": v[1], "seconds": round(v[2], 1)}
             for (n, s), v in results.items()}, indent=1))
    print(f"\n{'all pass' if not failed else f'{len(failed)} of {len(jobs)} runs failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
