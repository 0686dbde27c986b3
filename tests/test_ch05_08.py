"""Tests for what chapters 05-08 added to lstm_lib: the planted bugs, the debugging tools
(each flags its bug and passes the correct layer), the chapter-07 widget's compute functions,
and the exercise checkers (accept a right answer, name the mistake in wrong ones)."""
import math

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import diagnostics
from lstm_lib.cells import lstm_step, lstm_step_backward
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.course.exercises import ch05, ch06, ch07, ch08
from lstm_lib.course.widgets import training as tw

X64 = np.random.default_rng(0).standard_normal((2, 5, 3))  # batch 2, time 5, input 3 (hidden 4)


def small_model(layer_cls=L.LSTM, hidden=6, seed=0):
    rng = np.random.default_rng(seed)
    return L.Sequential(layer_cls(1, hidden, rng=rng), L.Linear(hidden, 1, rng=rng))


def wave(T=30):
    s = np.sin(2 * np.pi * np.arange(T + 1) / 15).astype(np.float32)[None, :, None]
    return s[:, :-1], s[:, 1:]


# --- the broken layers ---------------------------------------------------------------------

def test_reference_lstm_equals_library_layer():
    lib = L.LSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(1))
    ref = bugs.ReferenceLSTM.from_layer(lib)
    h0, c0 = np.full((2, 4), 0.3), np.full((2, 4), -0.2)
    assert np.allclose(ref.forward(X64, h0=h0, c0=c0), lib.forward(X64, h0=h0, c0=c0))
    dh = np.random.default_rng(1).standard_normal((2, 5, 4))
    assert np.allclose(ref.backward(dh), lib.backward(dh))
    for k in lib.grads:
        assert np.allclose(ref.grads[k], lib.grads[k])
    assert np.allclose(ref.dstate0[1], lib.dstate0[1])


@pytest.mark.parametrize("cls", list(bugs.BROKEN_LAYERS.values()))
def test_broken_layers_have_a_correct_forward(cls):
    lib = L.LSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(2))
    assert np.allclose(cls.from_layer(lib).forward(X64), lib.forward(X64))


def test_no_step_sgd_never_changes_params_but_sgd_does():
    model = small_model()
    before = diagnostics.snapshot(model)
    x, y = wave()
    for opt in (bugs.NoStepSGD(model, 0.1),):
        loss = L.MSELoss()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
    assert all(np.array_equal(before[k], p) for k, p in model.params.items())
    L.SGD(model, 0.1).step()
    assert any(not np.array_equal(before[k], p) for k, p in model.params.items())


# --- gradient check: flags the gradient bugs, passes the correct layer -----------------------

def test_gradient_check_passes_reference():
    assert L.gradient_check(bugs.ReferenceLSTM(3, 4, dtype=np.float64), X64).passed


@pytest.mark.parametrize("cls", [bugs.RandomInitGradLSTM, bugs.NoSigmoidGradLSTM, bugs.NoCarryLSTM])
def test_gradient_check_flags_gradient_bugs(cls):
    report = L.gradient_check(cls(3, 4, dtype=np.float64), X64)
    assert not report.passed
    assert report.worst[1] > 1e-3
    assert "FAILED: worst is" in str(report)


def test_missing_carry_is_invisible_with_one_step():
    layer = bugs.NoCarryLSTM(3, 4, dtype=np.float64)
    assert L.gradient_check(layer, X64[:, :1]).passed
    assert not L.gradient_check(layer, X64).passed


def test_transposed_weight_square_fails_on_input_only_and_nonsquare_raises():
    x_sq = np.random.default_rng(3).standard_normal((2, 5, 4))
    report = L.gradient_check(bugs.TransposedWeightLSTM(4, 4, dtype=np.float64), x_sq)
    failing = [k for k, e in report.errors.items() if e >= report.tol]
    assert failing == ["input"]
    with pytest.raises(ValueError, match="matmul"):
        L.gradient_check(bugs.TransposedWeightLSTM(3, 4, dtype=np.float64), X64)


# --- shape check -------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [bugs.ReferenceLSTM, L.LSTM, L.GRU, L.RNN])
def test_shape_check_passes_correct_layers(cls):
    report = diagnostics.shape_check(cls)
    assert report.passed, str(report)
    assert report.warning is None
    assert any("dx" in c for c in report.checked)


def test_shape_check_flags_transposed_weight_and_warns_on_equal_sizes():
    report = diagnostics.shape_check(bugs.TransposedWeightLSTM)
    assert not report.passed
    assert "backward" in report.problem and "input=5" in report.problem
    quiet = diagnostics.shape_check(bugs.TransposedWeightLSTM, input_size=4, hidden_size=4)
    assert quiet.passed and "not all different" in quiet.warning


def test_shape_check_flags_a_wrong_gradient_shape():
    class WrongGradShape(bugs.ReferenceLSTM):
        def backward(self, dh, dh_T=None, dc_T=None):
            dx = super().backward(dh)
            self.grads["W_x"] = self.grads["W_x"].T
            return dx

    report = diagnostics.shape_check(WrongGradShape)
    assert not report.passed and "grads['W_x']" in report.problem and "(5, 16)" in report.problem


def test_assert_shape():
    a = np.zeros((2, 3))
    assert diagnostics.assert_shape(a, (2, None)) is a
    with pytest.raises(AssertionError, match=r"h has shape \(2, 3\), expected \(3, 2\)"):
        diagnostics.assert_shape(a, (3, 2), "h")


# --- parameter-update ratio ----------------------------------------------------------------------

def test_update_ratio_flags_optimizer_that_never_steps():
    model = small_model()
    x, y = wave()
    report = diagnostics.update_ratio_check(model, L.MSELoss(), bugs.NoStepSGD(model, 0.1), x, y)
    assert not report.passed
    assert set(report.flagged) == set(model.params)
    assert all(v == 0.0 for v in report.ratios.values())
    assert "in place" in str(report) and "NEVER MOVED" in str(report)


def test_update_ratio_passes_a_working_optimizer():
    model = small_model()
    x, y = wave()
    report = diagnostics.update_ratio_check(model, L.MSELoss(), L.Adam(model, 0.01), x, y)
    assert report.passed, str(report)
    assert report.ratios["1.b"] == math.inf  # a zero bias that moved has no scale
    assert "moved from zero" in str(report)


def test_update_ratio_flags_too_large_steps():
    model = small_model()
    x, y = wave()
    diagnostics.update_ratio_check(model, L.MSELoss(), L.Adam(model, 0.01), x, y)  # bias non-zero
    report = diagnostics.update_ratio_check(model, L.MSELoss(), L.SGD(model, 1e4), x, y)
    assert not report.passed and "too large" in str(report)


def test_update_ratios_direct():
    model = small_model()
    before = diagnostics.snapshot(model)
    model.params["0.W_x"] *= 1.01
    ratios = diagnostics.update_ratios(model, before)
    assert ratios["0.W_x"] == pytest.approx(0.01, rel=1e-4)
    assert ratios["0.W_h"] == 0.0 and ratios["1.b"] == 0.0


# --- overfitting test ------------------------------------------------------------------------

def test_overfit_test_passes_correct_model_and_flags_no_step():
    x, y = wave()
    model = small_model(hidden=8)
    good = diagnostics.overfit_test(model, L.MSELoss(), L.Adam(model, 0.02), x, y, steps=250,
                                    target=1e-3)
    assert good.passed, str(good)
    model = small_model(hidden=8)
    bad = diagnostics.overfit_test(model, L.MSELoss(), bugs.NoStepSGD(model, 0.1), x, y, steps=20,
                                   target=1e-3)
    assert not bad.passed
    assert bad.losses[0] == bad.losses[-1]
    assert "FAILED" in str(bad) and "update ratios" in str(bad)


def test_overfit_test_stops_at_nan():
    x, y = wave()
    model = small_model()
    with np.errstate(all="ignore"):
        report = diagnostics.overfit_test(model, L.MSELoss(), L.SGD(model, 1e6), x, y, steps=50)
    assert not report.passed
    assert len(report.losses) < 50 or not np.isfinite(report.losses[-1])


# --- repeatability ---------------------------------------------------------------------------

def test_repeatability_flags_random_init_and_passes_correct():
    x = X64.astype(np.float32)
    assert diagnostics.repeatability_check(bugs.ReferenceLSTM(3, 4), x).passed
    assert diagnostics.repeatability_check(L.LSTM(3, 4), x).passed
    bad = diagnostics.repeatability_check(bugs.RandomInitGradLSTM(3, 4), x)
    assert not bad.passed and "zeros" in str(bad)


# --- stored activations ------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 5, 20])
def test_stored_activations_counts_lstm_buffers(k):
    B, I, H = 3, 2, 4
    layer = L.LSTM(I, H)
    x = np.zeros((B, k, I), np.float32)
    # inputs k*B*I, gates k*B*4H, tanh(c) k*B*H, h and c (k+1)*B*H each
    assert diagnostics.stored_activations(layer, x) == B * (k * (I + 7 * H) + 2 * H)


def test_stored_activations_grows_linearly_and_leaves_layer_alone():
    layer = L.LSTM(1, 8, stateful=True)
    x = np.ones((2, 50, 1), np.float32)
    counts = [diagnostics.stored_activations(layer, x[:, :k]) for k in (5, 10, 20)]
    assert counts[2] - counts[1] == 2 * (counts[1] - counts[0])
    assert layer._carry is None
    assert diagnostics.stored_activations(bugs.ReferenceLSTM(1, 8), x[:, :10]) > 0


# --- chapter-07 widget compute functions -------------------------------------------------------

def test_sine_batch_shapes_and_shift():
    x, y = tw.sine_batch(n=4, T=10)
    assert x.shape == y.shape == (4, 10, 1)
    assert np.allclose(x[:, 1:], y[:, :-1])


def test_short_run_trains_diverges_and_clipping_rescues():
    good = tw.short_run(0.3, 0.0, steps=30)
    assert good["diverged_at"] is None and len(good["loss"]) == 30
    assert good["loss"][-1] < good["loss"][0]
    wild = tw.short_run(4.0, 0.0, steps=30)
    assert wild["diverged_at"] is not None
    clipped = tw.short_run(4.0, 0.25, steps=30)
    assert clipped["diverged_at"] is None and np.isfinite(clipped["loss"]).all()
    assert len(clipped["grad_norm"]) == 30


def test_summary_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    text = tw.summary_short_run(0.6, 0.0, steps=30)
    assert "diverged at step" in text and "no clipping" in text
    text = tw.summary_short_run(-0.5, 1.0, steps=30)
    assert "lr = 0.316" in text and "clip at 1" in text and "after 30 steps" in text
    fig = tw.plot_short_run(0.6, 0.0, steps=30)
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_training_widget_builds():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    box = tw.training_widget(steps=20)
    assert "lstm-widget" in box._dom_classes
    controls = box.children[0].children
    assert [c.description for c in controls] == ["log10 learning rate", "clip threshold (0 = off)"]
    readout = box.children[1]
    before = readout.value
    controls[0].value = 0.6
    controls[1].value = 0.0
    assert readout.value != before and "diverged" in readout.value


# --- exercise checkers -----------------------------------------------------------------------

def test_ch05_lstm_step_checker():
    assert ch05.check_lstm_step.verdict(lambda *a: lstm_step(*a))[0]
    for kwargs, words in [({"order": "ifog"}, "i, f, g, o"), ({"g_act": L.sigmoid}, "tanh"),
                          ({"use_o": False}, "output gate"), ({"use_tanh_c": False}, "squash")]:
        ok, msg = ch05.check_lstm_step.verdict(lambda *a, kw=kwargs: ch05._step_with(*a, **kw))
        assert not ok and words in msg
    ok, msg = ch05.check_lstm_step.verdict(lambda *a: (np.zeros((4, 3)), np.zeros((3, 4))))
    assert not ok and "shape (4, 3)" in msg
    ok, msg = ch05.check_lstm_step.verdict(lambda *a: lstm_step(*a)[0])
    assert not ok and "return h, c" in msg

    def stub(*a):
        raise NotImplementedError

    assert "no answer yet" in ch05.check_lstm_step.verdict(stub)[1]


def test_ch05_param_count_checker():
    assert ch05.check_param_count.verdict(5504)[0]
    assert "two bias" in ch05.check_param_count.verdict(5632)[1]
    assert "four" in ch05.check_param_count.verdict(1376)[1]
    assert "bias" in ch05.check_param_count.verdict(4 * 32 * 42)[1]
    assert "whole number" in ch05.check_param_count.verdict("many")[1]
    assert "no answer yet" in ch05.check_param_count.verdict(None)[1]


def test_ch06_step_backward_checker():
    assert ch06.check_step_backward.verdict(lstm_step_backward)[0]
    for kwargs, words in [({"carry": False}, "dc arriving"), ({"skip_sigmoid": "f"}, "forget gate"),
                          ({"skip_sigmoid": "o"}, "output gate"), ({"skip_tanh_c": True}, "tanh(c)")]:
        ok, msg = ch06.check_step_backward.verdict(
            lambda dh, dc, cache, kw=kwargs: ch06._variant(dh, dc, cache, **kw))
        assert not ok and words in msg

    def wrong_db(dh, dc, cache):
        r = list(lstm_step_backward(dh, dc, cache))
        r[5] = r[5] * 2
        return r

    ok, msg = ch06.check_step_backward.verdict(wrong_db)
    assert not ok and msg.startswith("db is wrong")
    assert "six arrays" in ch06.check_step_backward.verdict(lambda *a: (1, 2))[1]


def test_ch06_highway_checker():
    assert ch06.check_highway_factor.verdict(np.prod(ch06.FORGET))[0]
    assert "product" in ch06.check_highway_factor.verdict(ch06.FORGET.sum())[1]
    assert "one step" in ch06.check_highway_factor.verdict(ch06.FORGET[-1])[1]
    assert "derivative" in ch06.check_highway_factor.verdict(
        np.prod(ch06.FORGET * (1 - ch06.FORGET)))[1]


def test_ch07_clip_checker():
    def good(grads, m):
        L.clip_grad_norm(grads, m)
        return grads

    assert ch07.check_clip.verdict(good)[0]
    per_array = ch07.check_clip.verdict(lambda gs, m: [g * min(1, m / np.linalg.norm(g)) for g in gs])
    assert not per_array[0] and "ONE norm" in per_array[1]
    assert "np.clip" in ch07.check_clip.verdict(lambda gs, m: [np.clip(g, -m, m) for g in gs])[1]
    always = ch07.check_clip.verdict(
        lambda gs, m: [g * m / np.sqrt(sum((h * h).sum() for h in gs)) for g in gs])
    assert not always[0] and "unchanged" in always[1]


def test_ch07_momentum_checker():
    assert ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p - lr * (mu * v + g), mu * v + g))[0]
    msg = ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p + mu * v - lr * g, mu * v - lr * g))[1]
    assert "lr is folded" in msg
    msg = ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p - lr * g, mu * v + g))[1]
    assert "plain gradient" in msg
    msg = ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p - lr * (v + mu * g), v + mu * g))[1]
    assert "OLD velocity" in msg


def test_ch08_tool_match_checker():
    good = {"random_init_grads": "gradient_check", "optimiser_never_steps": "update_ratio",
            "missing_sigmoid_grad": "gradient_check", "dc_not_carried": "gradient_check",
            "transposed_weight": "shape_check"}
    assert ch08.check_tool_match.verdict(good)[0]
    ok, msg = ch08.check_tool_match.verdict({**good, "optimiser_never_steps": "gradient_check"})
    assert not ok and "optimiser" in msg
    ok, msg = ch08.check_tool_match.verdict({**good, "missing_sigmoid_grad": "overfit_test"})
    assert not ok and "still memorised" in msg
    assert "no tool chosen yet" in ch08.check_tool_match.verdict({b: None for b in ch08.BUGS})[1]
    assert "not one of the tools" in ch08.check_tool_match.verdict({**good, "dc_not_carried": "luck"})[1]
    assert "no tool given" in ch08.check_tool_match.verdict({"random_init_grads": "gradient_check"})[1]


def test_ch08_tool_match_agrees_with_the_tools():
    """The checker's answer key is what the tools measure: the gradient check flags each
    gradient bug, the update ratio the optimiser bug, the shape check the transposed weight."""
    for bug in ("random_init_grads", "missing_sigmoid_grad", "dc_not_carried"):
        assert "gradient_check" in ch08.CATCHES[bug]
        cls = bugs.BROKEN_LAYERS[bug]
        assert not L.gradient_check(cls(3, 4, dtype=np.float64), X64).passed
    assert not diagnostics.shape_check(bugs.BROKEN_LAYERS["transposed_weight"]).passed


def test_ch08_change_ratio_checker():
    assert ch08.check_change_ratio.verdict(lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(b))[0]
    assert "||before||" in ch08.check_change_ratio.verdict(
        lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(a))[1]
    assert "size of the change alone" in ch08.check_change_ratio.verdict(
        lambda b, a: np.linalg.norm(a - b))[1]
    assert "one number" in ch08.check_change_ratio.verdict(lambda b, a: np.abs(a - b) / np.abs(b))[1]
    assert "elementwise" in ch08.check_change_ratio.verdict(
        lambda b, a: np.mean(np.abs(a - b) / np.abs(b)))[1]
