"""The machinery behind the exercises' self-checks.

A checker is a function that looks at a learner's answer and raises `Mistake` with an
actionable message at the first problem it finds. Decorated with `@self_check`, it prints
"Correct: ..." or "Not yet: <message>" and returns True/False: it never raises, so an
exercise cell left unsolved does not break Run All. Tests call `checker.verdict(answer)`
to get the message back instead of printed text.
"""
import functools

import numpy as np


class Mistake(Exception):
    """What is wrong with an answer, said so the learner knows what to change."""


def self_check(success_message):
    """Turn a checker that raises Mistake into one that prints a verdict and returns a bool."""

    def wrap(checker):
        @functools.wraps(checker)
        def run(*args, **kwargs):
            ok, message = verdict(*args, **kwargs)
            print(("Correct: " if ok else "Not yet: ") + message)
            return ok

        def verdict(*args, **kwargs):
            if args and args[0] is None or (not args and not kwargs):
                return False, "no answer yet: fill in the exercise cell and run it again"
            try:
                checker(*args, **kwargs)
            except NotImplementedError:
                return False, "no answer yet: replace the `raise NotImplementedError` line"
            except Mistake as m:
                return False, str(m)
            return True, success_message

        run.verdict = verdict
        return run

    return wrap


def expect_array(value, name):
    """The answer as an ndarray, or Mistake if it is not array-like numbers."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mistake(f"{name} should be a NumPy array of numbers, got {type(value).__name__}")
    return arr


def expect_shape(value, shape, name):
    arr = expect_array(value, name)
    if arr.shape != tuple(shape):
        raise Mistake(f"{name} has shape {arr.shape}, expected {tuple(shape)}")
    return arr


def expect_finite(arr, name):
    if not np.isfinite(arr).all():
        raise Mistake(f"{name} contains NaN or inf: check for a division by zero or an "
                      f"overflowing exp")


def expect_close(actual, expected, name, hint="", atol=1e-6, rtol=1e-5):
    """Mistake naming the largest difference (and a hint) unless actual is close to expected."""
    actual = expect_shape(actual, np.shape(expected), name)
    expect_finite(actual, name)
    if not np.allclose(actual, expected, atol=atol, rtol=rtol):
        diff = float(np.max(np.abs(actual - np.asarray(expected))))
        raise Mistake(f"{name} is off by up to {diff:.3g}" + (f": {hint}" if hint else ""))


def call(fn, *args, name=None):
    """Call the learner's function; any exception except NotImplementedError (the exercise not
    done yet) becomes a Mistake that names it."""
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise Mistake(f"expected a function, got {type(fn).__name__}: pass the function itself, "
                      f"without calling it")
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        raise Mistake(f"{name} raised {type(exc).__name__}: {exc}")


def close(a, b, atol=1e-8):
    """Same shape and values (used to recognise a typical wrong answer)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol, rtol=1e-6))
