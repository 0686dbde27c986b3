"""Threads: which BLAS NumPy uses and how many threads it runs, and the one thread limiter of
the package.

`blas_info()` says which BLAS NumPy uses (library, version, kernel, threads), read with
threadpoolctl; `blas_threads()` how many threads it runs now; `limit_blas_threads(n)`, a
context manager, limits it inside a block (the experiments, the benchmark's workers and the
command line all limit threads with it). The split of a time loop over two threads, an
experiment that lost, is chapter 13's `contestants.SplitBatchLSTM`.
"""
import contextlib
import os
import threading

_lock = threading.Lock()
_state = {"controller": None, "checked": False}


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
