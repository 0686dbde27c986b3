"""Self-check for chapter 00: the demonstration exercise that shows how every checker works."""
import numpy as np

from ..selfcheck import Mistake, expect_array, self_check


@self_check("your_mean gives the same numbers as np.mean, for rows and for columns")
def check_demo_mean(your_mean):
    """Demo exercise: `your_mean(x, axis)` averages a 2-D array along `axis` without np.mean."""
    x = np.arange(12.0).reshape(3, 4)
    for axis in (0, 1):
        try:
            got = your_mean(x, axis)
        except NotImplementedError:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            raise Mistake(f"your_mean(x, axis={axis}) raised {type(exc).__name__}: {exc}")
        got = expect_array(got, f"your_mean(x, axis={axis})")
        want = x.mean(axis=axis)
        if got.shape != want.shape:
            other = x.mean(axis=1 - axis)
            if got.shape == other.shape:
                raise Mistake(f"your_mean(x, axis={axis}) has shape {got.shape}, expected "
                              f"{want.shape}: you averaged along the other axis")
            raise Mistake(f"your_mean(x, axis={axis}) has shape {got.shape}, expected {want.shape}")
        if np.allclose(got, x.sum(axis=axis)):
            raise Mistake(f"your_mean(x, axis={axis}) returns the sum: divide by the number "
                          f"of elements along the axis ({x.shape[axis]})")
        if np.allclose(got, x.sum(axis=axis) / x.shape[1 - axis]):
            raise Mistake(f"your_mean(x, axis={axis}) divides by {x.shape[1 - axis]}, the "
                          f"length of the other axis: divide by x.shape[{axis}] = {x.shape[axis]}")
        if not np.allclose(got, want):
            raise Mistake(f"your_mean(x, axis={axis}) is off by up to "
                          f"{np.max(np.abs(got - want)):.3g}")
