"""The one switchable mistaken LSTM step the checkers of chapters 02, 05, 13 and 14 share."""
import itertools

import numpy as np
import pytest

from lstm_lib.cells import lstm_step as library_step
from lstm_lib.course.exercises import ch02, ch05, ch13, ch14
from lstm_lib.course.exercises import mistakes as M
from lstm_lib.variants import CIFGLSTM, variant_step


def _case(seed=0, B=3, I=2, H=4, k=4):
    rng = np.random.default_rng(seed)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    params = {"W_x": rng.standard_normal((I, k * H)), "W_h": rng.standard_normal((H, k * H)),
              "b": rng.standard_normal(k * H)}
    return x, h, c, params


@pytest.mark.parametrize("seed", range(5))
def test_no_mistake_is_the_library_step(seed):
    x, h, c, p = _case(seed)
    want_h, want_c, _ = library_step(x, h, c, p["W_x"], p["W_h"], p["b"])
    got_h, got_c = M.lstm_step(x, h, c, p)
    np.testing.assert_allclose(got_h, want_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_c, want_c, rtol=0, atol=1e-12)
    stacked = {"W": np.concatenate([p["W_h"], p["W_x"], p["b"][None]], axis=0)}  # [h | x | 1] @ W
    got_h, got_c = M.lstm_step(x, h, c, stacked)
    np.testing.assert_allclose(got_h, want_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_c, want_c, rtol=0, atol=1e-12)


def test_coupled_order_is_the_library_cifg_step():
    x, h, c, p = _case(1, k=3)
    want_h, want_c, _ = variant_step(x, h, c, p, CIFGLSTM.spec)
    got_h, got_c = M.lstm_step(x, h, c, p, order="fgo")
    np.testing.assert_allclose(got_h, want_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_c, want_c, rtol=0, atol=1e-12)


def _changes(x, h, c, params, order, mistake):
    right = M.lstm_step(x, h, c, params, order=order)
    wrong = M.lstm_step(x, h, c, params, order=order, mistake=mistake)
    return max(np.abs(a - b).max() for a, b in zip(right, wrong))


@pytest.mark.parametrize("mistake", sorted(set(M.MISTAKES) - {"coupling_swapped", "x_before_h"}))
def test_every_switch_changes_the_step(mistake):
    x, h, c, p = _case(2)
    assert _changes(x, h, c, p, "ifgo", mistake) > 1e-3


def test_the_stacking_and_coupling_switches_change_the_step():
    x, h, c, p = _case(3)
    stacked = {"W": np.concatenate([p["W_h"], p["W_x"], p["b"][None]], axis=0)}
    assert _changes(x, h, c, stacked, "ifgo", "x_before_h") > 1e-3  # [x | h | 1] against [W_h; W_x; b]
    x, h, c, p = _case(4, k=3)
    for mistake in ("coupling_swapped", "input_is_forget", "no_input_gate", "h_no_tanh"):
        assert _changes(x, h, c, p, "fgo", mistake) > 1e-3, mistake


def test_every_wrong_block_order_changes_the_step():
    x, h, c, p = _case(5)
    for order in itertools.permutations("ifgo"):
        if order != tuple("ifgo"):
            right = M.lstm_step(x, h, c, p)
            wrong = M.lstm_step(x, h, c, p, order="".join(order))
            assert np.abs(right[1] - wrong[1]).max() > 1e-3, order


def test_unknown_mistakes_and_orders_are_refused():
    x, h, c, p = _case(6)
    with pytest.raises(ValueError, match="unknown mistake"):
        M.lstm_step(x, h, c, p, mistake="h_is_c")
    with pytest.raises(ValueError, match="order"):
        M.lstm_step(x, h, c, p, order="ifgg")


def _spy(monkeypatch):
    calls = []
    real = M.step_from_z

    def spy(*args, **kwargs):
        calls.append(kwargs.get("mistake"))
        return real(*args, **kwargs)
    monkeypatch.setattr(M, "step_from_z", spy)
    return calls


def test_the_four_checkers_plant_their_slips_with_the_shared_step(monkeypatch):
    calls = _spy(monkeypatch)
    wrong = lambda *a: tuple(np.zeros_like(v) + 0.123 for v in library_step(*a)[:2])
    assert not ch02.check_lstm_step.verdict(wrong)[0]
    assert len(calls) >= 9
    calls.clear()
    torch_wrong = lambda x, h, c, wi, wh, bi, bh: (np.zeros_like(h) + 0.1, np.zeros_like(c) + 0.2)
    assert not ch05.check_torch_layout_step.verdict(torch_wrong)[0]
    assert len(calls) >= 26
    calls.clear()
    assert not ch13.check_stream_step.verdict(lambda x, h, c, W: (h + 0.1, c + 0.1))[0]
    assert len(calls) >= 5 * 6
    calls.clear()
    assert not ch14.check_cifg.verdict(lambda *a: (a[1] + 0.1, a[2] + 0.1, None), lambda *a: None)[0]
    assert len(calls) == 4
