"""Chapter 06: backpropagation through time (dc-through-time widget, exercise checkers)."""

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.activations import sigmoid
from lstm_lib.cells import lstm_step_backward
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.course.exercises import ch06
from lstm_lib.course.widgets import bptt
from lstm_lib.gradcheck import numerical_gradient

# --- exercise 1: the peephole step backward ------------------------------------------------

def test_peephole_reference_matches_finite_differences():
    """The checker's answer is the true gradient of L = sum(h * dh) + sum(c * dc) through
    peephole_step, for every input and parameter (central differences, float64)."""
    args, (dh, dc) = ch06.peephole_inputs()

    def loss():
        h, c, _ = ch06.peephole_step(*args)
        return float(np.sum(h * dh) + np.sum(c * dc))

    ref = ch06.peephole_backward(dh, dc, ch06.peephole_step(*args)[2])
    for got, arr in zip(ref, args):
        assert np.allclose(got, numerical_gradient(loss, arr), rtol=1e-6, atol=1e-8)


def test_peephole_without_peepholes_is_the_lstm_step_backward():
    dh, dc, cache = ch06.peephole_case()
    plain = cache._replace(p=np.zeros_like(cache.p))
    lstm_cache = L.cells.LSTMStepCache(plain.x, plain.h_prev, plain.c_prev, plain.i, plain.f, plain.g,
                                       plain.o, plain.tanh_c, plain.W_x, plain.W_h)
    # the gate values differ (they were computed with peepholes), but the formulas agree at p = 0
    assert all(np.allclose(a, e) for a, e in zip(ch06.peephole_backward(dh, dc, plain)[:6],
                                                  lstm_step_backward(dh, dc, lstm_cache)))


def _peep(**kw):
    return lambda dh, dc, cache: ch06.peephole_backward(dh, dc, cache, **kw)


@pytest.mark.parametrize("wrong, words", [
    (_peep(carry=False), "dc_next arriving"),
    (_peep(o_into_c=False), "dz_o * p_o to dc"),
    (_peep(peep_into_c_prev=False), "c_prev feeds the gates"),
    (_peep(o_reads_c_prev=True), "reads the new cell"),
    (_peep(o_into_c=False, peep_into_c_prev=False), "missing from both"),
    (lambda *a: ch06.peephole_backward(*a)[:6], "seven arrays"),
    (lambda *a: [*ch06.peephole_backward(*a)[:6], ch06.peephole_backward(*a)[6].T], "dp has shape (4, 3)"),
    (lambda *a: [*ch06.peephole_backward(*a)[:5], 2 * ch06.peephole_backward(*a)[5], ch06.peephole_backward(*a)[6]],
     "db is wrong"),
    (lambda *a: undefined_name, "NameError"),  # noqa: F821
])
def test_check_peephole_backward(wrong, words):
    assert ch06.check_peephole_backward.verdict(ch06.peephole_backward)[0]
    ok, msg = ch06.check_peephole_backward.verdict(wrong)
    assert not ok and words in msg, msg


# --- exercise 2: the backward loop in windows ----------------------------------------------

def test_windowed_backward_is_the_library_truncated_bptt():
    """The checker's answer equals L.LSTM(stateful=True) run over the windows one after the
    other (the state carried forward, the gradient stopped at each window's start), with the
    weight gradients of the windows added."""
    dhs, caches, x, W_x, W_h, b = ch06.windows_case()
    layer = L.LSTM(2, 3, stateful=True, dtype=np.float64)
    for name, w in (("W_x", W_x), ("W_h", W_h), ("b", b)):
        layer.params[name][...] = w
    total = {k: np.zeros_like(v) for k, v in layer.params.items()}
    dxs = []
    for start in range(0, 10, 4):
        layer.forward(x[:, start:start + 4])
        dxs.append(layer.backward(dhs[:, start:start + 4]))
        for k in total:
            total[k] += layer.grads[k]
    dx, dW_x, dW_h, db = ch06.windowed_backward(dhs, caches, 4)
    assert np.allclose(np.concatenate(dxs, axis=1), dx)
    assert np.allclose(total["W_x"], dW_x) and np.allclose(total["W_h"], dW_h) and np.allclose(total["b"], db)


def _win(**kw):
    return lambda dhs, caches, window: ch06.windowed_backward(dhs, caches, window, **kw)


@pytest.mark.parametrize("wrong, words", [
    (_win(cut_h=False, cut_c=False), "nothing is cut"),
    (_win(cut_h=False), "dh_next still crosses"),
    (_win(cut_c=False), "dc_next still crosses"),
    (_win(from_end=True), "counted from the end"),
    (_win(shift=1), "one step off"),
    (_win(shift=-1), "one step off"),
    (_win(sum_windows=False), "first window's part"),
    (lambda *a: ch06.windowed_backward(*a)[:3], "four arrays"),
    (lambda *a: [2 * r for r in ch06.windowed_backward(*a)], "dx, dW_x, dW_h, db are wrong"),
])
def test_check_backward_in_windows(wrong, words):
    assert ch06.check_backward_in_windows.verdict(ch06.windowed_backward)[0]
    ok, msg = ch06.check_backward_in_windows.verdict(wrong)
    assert not ok and words in msg, msg


def test_window_mistakes_cut_at_different_steps():
    cuts = [ch06.cut_steps(10, 4, **kw) for kw in ({}, {"from_end": True}, {"shift": 1}, {"shift": -1})]
    assert cuts[0] == {3, 7} and len({frozenset(c) for c in cuts}) == 4


# --- exercise 3: a gradient check along one random direction --------------------------------

def dc_right(loss, params, grads, eps=1e-5, seed=0):
    return ch06.directional_check(loss, params, grads, eps, seed)


def dc_no_restore(loss, params, grads, eps=1e-5, seed=0):
    value = ch06.directional_check(loss, params, grads, eps, seed)
    params["W_h"] += eps  # and never put back
    return value


def dc_step_back_by_adding(loss, params, grads, eps=1e-5, seed=0):
    """Restores by += eps V, -= 2 eps V, += eps V: equal to rounding, which the checker accepts."""
    rng = np.random.default_rng(seed)
    V = {k: rng.standard_normal(p.shape) for k, p in params.items()}
    for k, p in params.items():
        p += eps * V[k]
    up = loss()
    for k, p in params.items():
        p -= 2 * eps * V[k]
    down = loss()
    for k, p in params.items():
        p += eps * V[k]
    a = sum(np.sum(grads[k] * V[k]) for k in params)
    n = (up - down) / (2 * eps)
    return abs(a - n) / (abs(a) + abs(n))


def test_directional_check_is_a_gradient_check():
    """On the checker's LSTM the right gradients give rounding-level errors; a wrong one, in any
    array, gives a large error; the parameters come back bit for bit."""
    loss, params, grads = ch06.directional_case()
    before = {k: p.copy() for k, p in params.items()}
    assert max(ch06.directional_check(loss, params, grads, seed=s) for s in range(3)) < 1e-8
    assert all(np.array_equal(p, before[k]) for k, p in params.items())
    for name in params:
        wrong = {k: g * (1.5 if k == name else 1.0) for k, g in grads.items()}
        assert max(ch06.directional_check(loss, params, wrong, seed=s) for s in range(3)) > 1e-2


@pytest.mark.parametrize("wrong, words", [
    (lambda *a: ch06.directional_check(*a, one_sided=True), "one-sided"),
    (lambda *a: ch06.directional_check(*a, absolute=True), "absolute"),
    (lambda *a: ch06.directional_check(*a, arrays=1), "every array must move"),
    (dc_no_restore, "W_h was left changed"),
    (lambda *a: np.zeros(3), "one number"),
    (lambda *a: np.nan, "divide by max"),
    (lambda *a: 1e-3, "on a correct gradient"),
    (lambda *a: undefined_name, "NameError"),  # noqa: F821
])
def test_check_directional(wrong, words):
    assert ch06.check_directional.verdict(dc_right)[0]
    assert ch06.check_directional.verdict(dc_step_back_by_adding)[0]
    ok, msg = ch06.check_directional.verdict(wrong)
    assert not ok and words in msg, msg


def test_forget_gate_is_pinned():
    r = bptt.cell_gradients(forget=0.73, length=12)
    assert r["forget_values"] == pytest.approx(0.73, abs=1e-12)
    assert sigmoid(bptt.forget_logit(1.0)) == 1.0
    with pytest.raises(ValueError, match="forget"):
        bptt.forget_logit(0.0)


@pytest.mark.parametrize("forget", [1.0, 0.5, 0.8])
def test_carried_gradient_is_a_power_of_f_on_the_pure_highway(forget):
    """Without recurrent weights the cell path is the only way back: dc_{t-1} = f dc_t exactly;
    f = 1 does not decay at all, f = 0.5 halves per step. Cut, nothing gets back."""
    r = bptt.cell_gradients(forget=forget, length=30, recurrent_scale=0.0)
    assert r["carried"] == pytest.approx(forget ** np.arange(29, -1, -1), rel=1e-9)
    assert r["carried"][:-1] / r["carried"][1:] == pytest.approx(forget, rel=1e-9)
    assert np.all(r["cut"][:-1] == 0.0) and r["cut"][-1] == 1.0


def test_without_the_carry_the_gradient_dies_with_recurrent_weights():
    """With W_h the gradient still reaches earlier steps without the carry, through h, but far
    less: much less than with the carry, and less the longer the sequence."""
    r = bptt.cell_gradients(forget=1.0, length=40, recurrent_scale=0.5)
    assert 0 < r["cut"][0] < 1e-10 and r["carried"][0] > 0.5
    assert np.all(r["cut"][:-1] < r["carried"][:-1])
    assert bptt.cell_gradients(1.0, 80)["cut"][0] < r["cut"][0]
    # smaller forget gate: less is carried (matches f^k on the pure highway, above)
    assert bptt.cell_gradients(0.6, 40)["carried"][0] < bptt.cell_gradients(0.9, 40)["carried"][0]


def test_matches_the_library_layer_and_the_bug_layer():
    """The hand loop's dL/dc_0 equals what the readable library layer (ReferenceLSTM, tested
    equal to L.LSTM) reports in dstate0, and NoCarryLSTM's, 0, equals the cut one."""
    T = 10
    W_x, W_h, b, x, u = bptt.network(forget=0.9, length=T, recurrent_scale=0.5)
    r = bptt.cell_gradients(forget=0.9, length=T, recurrent_scale=0.5)
    dh = np.zeros((1, T, 8))
    dh[:, -1] = u
    for cls, key in ((bugs.ReferenceLSTM, "dc0_carried"), (bugs.NoCarryLSTM, "dc0_cut")):
        layer = cls(1, 8, dtype=np.float64)
        layer.params["W_x"][...], layer.params["W_h"][...], layer.params["b"][...] = W_x, W_h, b
        layer.forward(x)
        layer.backward(dh)
        assert layer.dstate0[1][0] == pytest.approx(r[key], rel=1e-10, abs=1e-300)
    assert np.linalg.norm(r["dc0_carried"]) > 0 and np.all(r["dc0_cut"] == 0)


def test_bptt_readout_and_figure():
    import matplotlib.pyplot as plt

    text = bptt.summary_cell_gradients(0.9, 50)
    r = bptt.cell_gradients(0.9, 50)
    assert f"{r['carried'][0]:.2e}" in text and f"{r['cut'][0]:.2e}" in text
    assert bptt.summary_cell_gradients(0.5, 50) != text
    assert "exactly 0" in bptt.summary_cell_gradients(1.0, 20, recurrent_scale=0.0)
    assert "underflow" in bptt.summary_cell_gradients(0.9, 200, recurrent_scale=0.5)
    fig = bptt.plot_cell_gradients(0.9, 50)
    assert len(fig.axes[0].lines) == 3 and fig.axes[0].get_yscale() == "log"
    plt.close(fig)


def test_bptt_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(bptt, "plot_cell_gradients", tiny_figure)
    box = bptt.bptt_widget()
    forget, length, scale = sliders_of(box)
    before = readout_of(box)
    forget.value = forget.max
    assert readout_of(box) != before and "f = 1.00" in readout_of(box)
    length.value = 20
    assert "T = 20" in readout_of(box)
    assert not any(s.continuous_update for s in (forget, length, scale))


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "06_bptt.ipynb"
    checks = [("peephole_step_backward", ch06.check_peephole_backward),
              ("backward_in_windows", ch06.check_backward_in_windows),
              ("directional_check", ch06.check_directional)]
    assert not failing_solutions(notebook, checks, lstm_step_backward=L.cells.lstm_step_backward)
