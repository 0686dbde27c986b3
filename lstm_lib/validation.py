"""Input checks with messages that name the expected and the actual value."""
import numpy as np


def as_float_array(x, name, dtype):
    """Return `x` as an array of `dtype`; TypeError for non-float input, ValueError for NaN/inf."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be a float array, got dtype {x.dtype}; "
                        f"convert it with {name}.astype(np.float32)")
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(x)).sum())} values, "
                         f"first at index {tuple(int(i) for i in bad)})")
    return x.astype(dtype, copy=False)


def check_shape(x, expected, name):
    """Raise ValueError unless x.shape matches `expected` (None entries match any size)."""
    shape = np.shape(x)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        want = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} must have shape {want}, got {tuple(shape)}")


def check_rank(x, rank, layout, name):
    """Raise ValueError unless x has `rank` dimensions, naming the layout, e.g. (batch, time, features)."""
    if np.ndim(x) != rank:
        raise ValueError(f"{name} must be {rank}-D {layout}, got shape {tuple(np.shape(x))} "
                         f"({np.ndim(x)}-D)")


def check_int_targets(y, num_classes, name, ignore_index=None):
    """Raise TypeError for non-integer targets, ValueError for values outside [0, num_classes)."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    valid = y if ignore_index is None else y[y != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= num_classes):
        lo, hi = int(valid.min()), int(valid.max())
        raise ValueError(f"{name} must be in [0, {num_classes - 1}], got values from {lo} to {hi}")
    return y
