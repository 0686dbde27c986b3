"""Can a second Python thread take half of the elementwise gate work off the first core?

    python experiments/two_cores_elementwise.py          # about a minute, on an idle machine

The library's time loops alternate a matrix product (OpenBLAS, both cores) with elementwise
NumPy calls (one core). Half of that elementwise work could run in a second Python thread
(NumPy releases the GIL inside ufuncs). This measures the idea at the size of the backward
pass's bulk work at (batch 64, time 100, hidden 128): 15 multiplies over (100, 64, 128)
float32 arrays, alone and right after a (512 x 512) matrix product, done by one thread or
split over two. Each setting runs in its own process, with NumPy's BLAS at 2 threads and
OpenBLAS's default spin-wait, or with OPENBLAS_THREAD_TIMEOUT=4 (its threads sleep almost at
once after a product); each also times lstm_lib's LSTM training step at (64, 100, 32, 128),
to see what the setting does to the whole step. Median of 31 repetitions, wall clock,
milliseconds.

Writes lstm_lib/course/results/two_cores_elementwise.json (not used by a chapter).
"""
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

from lstm_lib import bench

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "lstm_lib/course/results"
WORKER = r"""
import json, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
pool = ThreadPoolExecutor(1)
T, B, H = 100, 64, 128
rng = np.random.default_rng(0)
a, b = rng.random((T, B, H), dtype=np.float32), rng.random((T, B, H), dtype=np.float32)
c = np.empty_like(a)
W = rng.random((512, 512), dtype=np.float32)
def work(lo, hi):
    for _ in range(15):
        np.multiply(a[lo:hi], b[lo:hi], c[lo:hi])
def one():
    work(0, T)
def two():
    other = pool.submit(work, T // 2, T)
    work(0, T // 2)
    other.result()
def product():
    W @ W
def after_product(fn):
    def run():
        W @ W
        fn()
    return run
import lstm_lib as L
layer = L.LSTM(32, 128, rng=np.random.default_rng(0))
x = rng.standard_normal((64, 100, 32), dtype=np.float32)
dy = rng.standard_normal((64, 100, 128), dtype=np.float32)
def training_step():
    layer.forward(x)
    layer.backward(dy)
out = {}
for name, fn in [("LSTM training step (64, 100, 32, 128)", training_step),
                 ("product alone", product), ("elementwise, one thread", one),
                 ("elementwise, two threads", two),
                 ("product, then elementwise on one thread", after_product(one)),
                 ("product, then elementwise on two threads", after_product(two))]:
    fn(); fn()
    times = []
    for _ in range(31):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    out[name] = round(float(np.median(times)) * 1e3, 3)
print(json.dumps(out))
"""


def run(extra_env):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", **extra_env}
    done = subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def main():
    settings = {"OpenBLAS default (threads spin after a product)": {},
                "OPENBLAS_THREAD_TIMEOUT=4 (threads sleep at once)": {"OPENBLAS_THREAD_TIMEOUT": "4"}}
    load = os.getloadavg()[0]
    result = {"cpu": bench.cpu_name(), "python": platform.python_version(),
              "load_before": round(load, 2), "ms": {}}
    for name, env in settings.items():
        result["ms"][name] = run(env)
        print(name)
        for k, v in result["ms"][name].items():
            print(f"  {k:42s} {v:7.3f} ms")
    result["load_after"] = round(os.getloadavg()[0], 2)
    result["time"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    (RESULTS / "two_cores_elementwise.json").write_text(json.dumps(result, indent=1))
    print(f"load {result['load_before']} -> {result['load_after']}; wrote two_cores_elementwise.json")


if __name__ == "__main__":
    main()
