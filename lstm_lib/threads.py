"""Threads: how many NumPy's BLAS uses, how to limit it, and an optional split of the
recurrent layers' time loops over two cores.

A recurrent layer's time loop is sequential in time but independent across the batch. With
`split_batch()` on (or `LSTM_LIB_SPLIT_BATCH=1` in the environment), two or more BLAS threads
and a batch large enough, the layers run their loop as two Python threads, each on half of the
batch rows: NumPy releases the GIL inside its ufuncs and matrix products, so both halves
compute at once, the elementwise gate arithmetic included; the BLAS is set to one thread
meanwhile. It is off by default: on an idle 2-core AMD EPYC (OpenBLAS 0.3.31) the split took
1.3 to 1.4 times as long as one loop whose matrix products use the BLAS's two threads, at each
of the five shapes measured (experiments/split_batch.py; chapter 13, section 7).

`blas_info()` says which BLAS NumPy uses (library, version, kernel, threads), read with
threadpoolctl; `limit_blas_threads(n)` is the one thread limiter of the package.
"""
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_state = {"controller": None, "checked": False, "pool": None,
          "split": os.environ.get("LSTM_LIB_SPLIT_BATCH", "0") == "1"}


def _numpy_blas():
    """threadpoolctl's controller of NumPy's own BLAS (not torch's), or None."""
    if not _state["checked"]:
        with _lock:
            if not _state["checked"]:
                try:
                    from threadpoolctl import ThreadpoolController
                    libs = [c for c in ThreadpoolController().lib_controllers
                            if c.user_api == "blas"]
                    own = [c for c in libs if "numpy" in c.filepath] or libs
                    _state["controller"] = own[0] if own else None
                except Exception:  # noqa: BLE001 - no threadpoolctl, or it cannot read the BLAS
                    _state["controller"] = None
                _state["checked"] = True
    return _state["controller"]


def blas_threads():
    """How many threads NumPy's BLAS uses now (1 if that cannot be read)."""
    ctl = _numpy_blas()
    return int(ctl.get_num_threads()) if ctl is not None else 1


def blas_info():
    """The BLAS NumPy uses: a dict with library, version, architecture (the kernel) and threads."""
    ctl = _numpy_blas()
    if ctl is None:
        return {"library": "unknown (threadpoolctl could not read it)", "version": None,
                "architecture": None, "threads": None}
    return {"library": ctl.internal_api, "version": ctl.version,
            "architecture": getattr(ctl, "architecture", None), "threads": ctl.get_num_threads(),
            "file": os.path.basename(ctl.filepath)}


@contextlib.contextmanager
def limit_blas_threads(n):
    """Inside the block, NumPy's BLAS uses at most `n` threads (None: leave it as it is)."""
    ctl = _numpy_blas()
    if n is None or ctl is None:
        yield
        return
    before = ctl.get_num_threads()
    ctl.set_num_threads(min(int(n), before))
    try:
        yield
    finally:
        ctl.set_num_threads(before)


def _pool():
    if _state["pool"] is None:
        with _lock:
            if _state["pool"] is None:
                _state["pool"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstm_lib")
    return _state["pool"]


@contextlib.contextmanager
def split_batch(enabled=True):
    """Inside the block, the recurrent layers split their time loops over two threads (see the
    module docstring) when `enabled`, or never when not."""
    before = _state["split"]
    _state["split"] = bool(enabled)
    try:
        yield
    finally:
        _state["split"] = before


def halves(batch, min_rows):
    """The batch rows as one range, or, with `split_batch` on, as two halves when the BLAS has
    two or more threads and each half would have at least `min_rows` rows: a list of
    (start, stop)."""
    if not _state["split"] or batch < 2 * min_rows or blas_threads() < 2:
        return [(0, batch)]
    mid = (batch + 1) // 2
    return [(0, mid), (mid, batch)]


def run_on_rows(loop, parts):
    """Run loop(start, stop) for each part in `parts` (from `halves`): with one part in this
    thread; with two, the second in a pool thread at the same time as the first in this one,
    the BLAS on one thread meanwhile. Exceptions from either part are raised here."""
    if len(parts) == 1:
        loop(*parts[0])
        return
    with limit_blas_threads(1):
        other = _pool().submit(loop, *parts[1])
        try:
            loop(*parts[0])
        finally:
            other.result()
