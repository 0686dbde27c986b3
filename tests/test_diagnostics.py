"""The debugging tools (lstm_lib.diagnostics) against the planted bugs of chapter 08: each tool
passes a correct layer and flags the bug it is made for."""
import math

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import diagnostics
from lstm_lib.course import planted_bugs as bugs

X64 = np.random.default_rng(0).standard_normal((2, 5, 3))  # batch 2, time 5, input 3 (hidden 4)

def small_model(layer_cls=L.LSTM, hidden=6, seed=0):
    rng = np.random.default_rng(seed)
    return L.Sequential(layer_cls(1, hidden, rng=rng), L.Linear(hidden, 1, rng=rng))

def wave(T=30):
    s = np.sin(2 * np.pi * np.arange(T + 1) / 15).astype(np.float32)[None, :, None]
    return s[:, :-1], s[:, 1:]



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


def test_repeatability_flags_random_init_and_passes_correct():
    x = X64.astype(np.float32)
    assert diagnostics.repeatability_check(bugs.ReferenceLSTM(3, 4), x).passed
    assert diagnostics.repeatability_check(L.LSTM(3, 4), x).passed
    bad = diagnostics.repeatability_check(bugs.RandomInitGradLSTM(3, 4), x)
    assert not bad.passed and "zeros" in str(bad)


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


def test_one_overfitting_threshold_separates_correct_from_randn_noise():
    """The course's threshold (chapters 07 and 08): a correct model passes with a wide margin,
    gradients started from np.random.randn noise fail it with Adam and with SGD."""
    assert diagnostics.OVERFIT_TARGET == 1e-3 and diagnostics.OVERFIT_STEPS == 400
    x, y = wave(60)
    finals = {}
    for name, scale, make_opt in [("correct", 0.0, lambda m: L.Adam(m, 0.01)),
                                  ("noise, Adam", 1.0, lambda m: L.Adam(m, 0.01)),
                                  ("noise, SGD", 1.0, lambda m: L.SGD(m, 0.1))]:
        L.seed(0)
        model = L.Sequential(bugs.NoisyGradLSTM(1, 16, noise_scale=scale), L.Linear(16, 1))
        report = diagnostics.overfit_test(model, L.MSELoss(), make_opt(model), x, y)
        finals[name] = (report.passed, report.losses[-1])
    assert finals["correct"][0] and finals["correct"][1] < diagnostics.OVERFIT_TARGET / 10
    assert not finals["noise, Adam"][0] and not finals["noise, SGD"][0]
