"""Chapter 10: the adding problem (data, training, exercise checkers)."""
import numpy as np
import pytest

from lstm_lib.datasets import adding_problem


def test_adding_problem_statistics():
    n, T = 20_000, 30
    x, y = adding_problem(n, T, rng=np.random.default_rng(0))
    assert x.shape == (n, T, 2) and y.shape == (n, 1) and x.dtype == np.float32
    values, marks = x[..., 0], x[..., 1]
    assert set(np.unique(marks)) == {0.0, 1.0}
    assert (marks.sum(axis=1) == 2).all()
    assert (marks[:, :T // 2].sum(axis=1) == 1).all() and (marks[:, T // 2:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (values * marks).sum(axis=1), rtol=1e-6)
    assert 0 <= values.min() and values.max() < 1
    assert abs(values.mean() - 0.5) < 0.01
    # the target has mean 1 and variance 1/6: the constant 1 scores MSE 1/6
    assert abs(y.mean() - 1) < 0.01
    assert abs(np.mean((y - 1) ** 2) - 1 / 6) < 0.005
    # both marker positions are spread over their halves
    first = marks[:, :T // 2].argmax(axis=1)
    assert len(np.unique(first)) == T // 2


def test_train_adding_learns_short_sequences_and_records_curve():
    from lstm_lib.models import adding_model, train_adding

    assert adding_model("GRU", 8).num_params() == 3 * 8 * (2 + 8 + 1) + 8 + 8 + 1
    with pytest.raises(ValueError):
        adding_model("CNN", 8)
    _, r = train_adding("LSTM", 6, 16, 400, lr=1e-2, eval_every=50, n_test=200)
    assert r["steps"][0] == 50 and len(r["steps"]) == len(r["test_mse"])
    assert r["test_mse"][-1] < r["test_mse"][0] and r["final_mse"] < 0.05


def test_check_adding_batch():
    from lstm_lib.course.exercises import ch10

    assert ch10.check_adding_batch.verdict(lambda n, T, rng: adding_problem(n, T, rng=rng))[0]

    def all_values(n, T, rng):
        x, _ = adding_problem(n, T, rng=rng)
        return x, x[..., 0].sum(axis=1, keepdims=True)

    ok, msg = ch10.check_adding_batch.verdict(all_values)
    assert not ok and "sum of all values" in msg

    def same_half(n, T, rng):
        x, _ = adding_problem(n, T, rng=rng)
        x[..., 1] = 0
        x[:, 0, 1] = x[:, 1, 1] = 1
        return x, x[:, 0:1, 0] + x[:, 1:2, 0]

    ok, msg = ch10.check_adding_batch.verdict(same_half)
    assert not ok and "same half" in msg

    def flat_y(n, T, rng):
        x, y = adding_problem(n, T, rng=rng)
        return x, y[:, 0]

    ok, msg = ch10.check_adding_batch.verdict(flat_y)
    assert not ok and "(n, 1)" in msg

    def three_marks(n, T, rng):
        x, y = adding_problem(n, T, rng=rng)
        x[:, -1, 1] = 1
        return x, y

    ok, msg = ch10.check_adding_batch.verdict(three_marks)
    assert not ok and "exactly 2" in msg
    assert not ch10.check_adding_batch.verdict(None)[0]


def test_check_one_value_mse():
    from lstm_lib.course.exercises import ch10

    assert ch10.check_one_value_mse.verdict(1 / 12)[0]
    ok, msg = ch10.check_one_value_mse.verdict(1 / 6)
    assert not ok and "constant" in msg
    ok, msg = ch10.check_one_value_mse.verdict(1 / np.sqrt(12))
    assert not ok and "standard deviation" in msg
