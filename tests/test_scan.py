"""lstm_lib.scan: the linear recurrence h_t = a_t h_{t-1} + b_t by a loop and by scans."""
import numpy as np
import pytest

from lstm_lib import scan as S

TREE_METHODS = ["hillis_steele", "blelloch", "log"]


def coefficients(rng, T, shape=(3, 4)):
    a = rng.uniform(0.05, 1.0, (T,) + shape)
    b = rng.uniform(0.0, 1.0, (T,) + shape)
    return a, b


def test_combine_is_associative_and_composes_in_order(rng):
    x = [(rng.uniform(-2, 2, 5), rng.standard_normal(5)) for _ in range(3)]
    left = S.combine(S.combine(x[0], x[1]), x[2])
    right = S.combine(x[0], S.combine(x[1], x[2]))
    np.testing.assert_allclose(left[0], right[0], rtol=1e-13)
    np.testing.assert_allclose(left[1], right[1], rtol=1e-12, atol=1e-13)
    # (a1, b1) then (a2, b2) applied to h equals the composite applied to h
    h = rng.standard_normal(5)
    (a1, b1), (a2, b2) = x[0], x[1]
    a, b = S.combine(x[0], x[1])
    np.testing.assert_allclose(a * h + b, a2 * (a1 * h + b1) + b2, rtol=1e-13)
    # (1, 0) is the identity on both sides
    one = (np.ones(5), np.zeros(5))
    for pair in (S.combine(one, x[0]), S.combine(x[0], one)):
        np.testing.assert_array_equal(pair[0], x[0][0])
        np.testing.assert_array_equal(pair[1], x[0][1])


@pytest.mark.parametrize("T", [1, 2, 3, 5, 8, 13, 64, 100, 257])
@pytest.mark.parametrize("method", TREE_METHODS)
def test_every_scan_equals_the_loop(T, method, rng):
    a, b = coefficients(rng, T)
    h0 = rng.uniform(0, 1, (3, 4))
    for start in (None, h0):
        ref, steps = S.scan_loop(a, b, start)
        assert steps == T
        h, _ = S.scan(a, b, start, method=method)
        assert np.max(np.abs(h - ref)) < 1e-12


def test_loop_is_the_recurrence_as_written(rng):
    a, b = coefficients(rng, 6)
    h0 = rng.standard_normal((3, 4))
    h, prev = [], h0
    for t in range(6):
        prev = a[t] * prev + b[t]
        h.append(prev)
    np.testing.assert_allclose(S.scan_loop(a, b, h0)[0], np.stack(h), rtol=1e-15)


def test_signed_values_for_the_linear_space_scans(rng):
    a, b = rng.uniform(-1, 1, (50, 7)), rng.standard_normal((50, 7))
    ref, _ = S.scan_loop(a, b)
    for method in ("hillis_steele", "blelloch"):
        assert np.max(np.abs(S.scan(a, b, method=method)[0] - ref)) < 1e-12
    with pytest.raises(ValueError, match="b >= 0"):
        S.scan(a, b, method="log")


@pytest.mark.parametrize("T", [1, 2, 5, 64, 100, 1000, 4096])
def test_step_counts(T, rng):
    a, b = coefficients(rng, T, (2,))
    assert S.scan_hillis_steele(a, b)[1] == int(np.ceil(np.log2(T)))
    assert S.scan_blelloch(a, b)[1] == 2 * int(np.floor(np.log2(T)))
    assert S.scan(a, b, method="log")[1] == 2


@pytest.mark.parametrize("method", ["loop"] + TREE_METHODS)
def test_reverse_scan_is_the_backward_recurrence(method, rng):
    T = 37
    a_next, d = rng.uniform(0.05, 1, (T, 3)), rng.standard_normal((T, 3))
    g, expected = np.zeros_like(d), np.zeros(3)
    for t in reversed(range(T)):
        expected = d[t] + (a_next[t] * expected if t < T - 1 else 0)
        g[t] = expected
    out, _ = S.reverse_scan(a_next, d, method=method)
    assert np.max(np.abs(out - g)) < 1e-12
    # the last coefficient multiplies nothing: changing it changes nothing
    a2 = a_next.copy()
    a2[-1] = 0.0
    assert np.max(np.abs(S.reverse_scan(a2, d, method=method)[0] - g)) < 1e-12


def test_log_space_survives_where_the_cumulative_sum_in_linear_space_overflows():
    T = 2000
    a, b = np.full((T, 1), 0.5), np.full((T, 1), 0.25)
    A = np.cumprod(a, axis=0)  # 0.5^t: underflows to 0 past t = 1074
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        naive = A * np.cumsum(b / A, axis=0)
    assert not np.isfinite(naive).all()
    h, _ = S.scan(a, b, method="log")
    ref, _ = S.scan_loop(a, b)
    assert np.isfinite(h).all() and np.max(np.abs(h - ref)) < 1e-12
    assert abs(h[-1, 0] - 0.5) < 1e-12  # the fixed point b / (1 - a)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same shape"):
        S.scan(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="h0 must have shape"):
        S.scan(np.ones((4, 2)), np.ones((4, 2)), h0=np.ones(3))
    with pytest.raises(ValueError, match="method must be one of"):
        S.scan(np.ones((4, 2)), np.ones((4, 2)), method="fast")
    with pytest.raises(ValueError, match="at least one time step"):
        S.scan(np.ones((0, 2)), np.ones((0, 2)))
