"""Timing fairly: each side alone in its own process, warm-up, alternating rounds, medians.

Two libraries in one process slow each other down (their idle BLAS and OpenMP threads spin
for a while after each call), and a learner runs one library at a time. So every side of a
comparison runs in a worker process of its own, started once: the parent builds nothing, it
asks one worker at a time to run its step `n` times, and stops the other workers meanwhile
(SIGSTOP on POSIX, so not even their idle threads run). The order of the sides rotates from
round to round, so a busy moment of the machine hits every side alike; report the medians.

A side is a `Side(name, factory, kwargs)`: `factory` is "module:function", a function that
builds and returns the step to time (a function without arguments), called in the worker.
Sides of one library that are never compared with each other (torch's cell at three sizes)
may share a worker: give them the same `process` name; they still run one at a time.

Clocks: "wall" (time.perf_counter, what a user waits for, right with all threads) or "cpu"
(time.process_time: the processor time of the worker's threads; on a shared machine it is
much steadier, and with one thread it is what the code itself costs).
"""
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import NamedTuple

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class Side(NamedTuple):
    """One contestant: a name, the factory that builds its step, the factory's kwargs, and
    optionally the name of a worker process it shares with other sides (default: its own)."""

    name: str
    factory: str
    kwargs: dict
    process: str = None


def time_per_call(fn, n, clock=time.perf_counter):
    """Seconds per call of fn(), over n calls in a row."""
    t0 = clock()
    for _ in range(n):
        fn()
    return (clock() - t0) / n


def calls_for(fn, seconds, clock=time.perf_counter):
    """Warm fn up (two calls: buffers, caches, thread pools), then how many calls take about
    `seconds`."""
    fn()
    fn()
    return max(1, int(seconds / max(time_per_call(fn, 1, clock), 1e-7)))


def build(factory, kwargs):
    """Import "module:function" and call it with kwargs: the step function to time."""
    module, func = factory.split(":")
    return getattr(importlib.import_module(module), func)(**kwargs)


# --- the worker process --------------------------------------------------------------------

def _worker():
    """Reads JSON lines on stdin: a first one {"sides": [{"name", "factory", "kwargs"}, ...],
    "clock", "seconds"}, then {"name": ..., "n": N} (answers {"seconds_per_call": ...}) until
    {"quit": true}."""
    _die_with_parent()
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the step prints must not mix with the answers
    spec = json.loads(sys.stdin.readline())
    clock = CLOCKS[spec["clock"]]
    try:
        fns = {s["name"]: build(s["factory"], s["kwargs"]) for s in spec["sides"]}
        info = {"n": {k: calls_for(fn, spec["seconds"], clock) for k, fn in fns.items()},
                "threads": _threads_info()}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        info = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(info), file=out, flush=True)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("quit"):
            break
        print(json.dumps({"seconds_per_call": time_per_call(fns[msg["name"]], msg["n"], clock)}),
              file=out, flush=True)


def _die_with_parent():
    """Linux: have the kernel kill this worker when its parent dies, even while it is stopped,
    so that a benchmark killed midway leaves no stopped workers behind."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call above
        os._exit(1)


def _threads_info():
    from .threads import blas_info
    info = {"blas": blas_info()}
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    return info


class Worker:
    """A worker process for one or more sides: started with their specs, it warms each up and
    then runs one on request."""

    def __init__(self, sides, clock, seconds, threads, env=None):
        env = dict(os.environ if env is None else env)
        if threads is not None:
            for k in THREAD_VARS:
                env[k] = str(threads)
        self.sides = sides
        self.proc = subprocess.Popen([sys.executable, "-c", "from lstm_lib.timing import _worker; _worker()"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     text=True)
        self._send({"sides": [{"name": s.name, "factory": s.factory, "kwargs": s.kwargs}
                              for s in sides], "clock": clock, "seconds": seconds})
        self.info = self._receive()
        if "error" in self.info:
            self.close()
            raise RuntimeError(f"side {', '.join(s.name for s in sides)!r} failed to start: "
                               f"{self.info['error']}")
        self.n = self.info["n"]
        self.pause()

    def _send(self, msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def _receive(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"side {self.sides[0].name!r}: the worker process ended "
                               f"(exit code {self.proc.wait()})")
        return json.loads(line)

    def pause(self):
        if hasattr(signal, "SIGSTOP"):
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if hasattr(signal, "SIGCONT"):
            self.proc.send_signal(signal.SIGCONT)

    def run(self, name):
        """Seconds per call of side `name` over one round of n calls, the other workers
        stopped."""
        self.resume()
        try:
            self._send({"name": name, "n": self.n[name]})
            return self._receive()["seconds_per_call"]
        finally:
            self.pause()

    def close(self):
        self.resume()
        try:
            self._send({"quit": True})
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.proc.stdout.close()


def rounds_alone(sides, rounds=7, seconds=0.2, clock="wall", threads=None, env=None):
    """Time each Side alone in its own process over alternating rounds.

    threads: the thread count of every side's BLAS/OpenMP (set through the environment
    before the worker starts; None leaves them as they are, i.e. all cores).
    Returns {"times": name -> list of seconds per call, one per round, "info": name -> what
    the worker reports about its threads and BLAS}."""
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    groups = {}
    for side in sides:
        groups.setdefault(side.process or side.name, []).append(side)
    workers, by_name = [], {}
    try:
        for group in groups.values():
            workers.append(Worker(group, clock, seconds, threads, env))
            by_name.update({s.name: workers[-1] for s in group})
        names = [s.name for s in sides]
        times = {k: [] for k in names}
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                times[name].append(by_name[name].run(name))
        return {"times": times, "info": {k: w.info for k, w in by_name.items()}}
    finally:
        for w in workers:
            w.close()


def rounds_in_process(fns, rounds=7, seconds=0.2, clock=time.perf_counter):
    """The same alternating rounds for functions of this process (name -> fn): only fair
    when they share one library and one thread (chapter 13's NumPy versions, one thread).
    Returns name -> list of seconds per call, one per round."""
    names = list(fns)
    n = {k: calls_for(fns[k], seconds, clock) for k in names}
    times = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            times[k].append(time_per_call(fns[k], n[k], clock))
    return times
