"""Chapter 13, making it fast: every layer of the chain equals the library's layer, the
cost-model widget says what its model computes, and each exercise checker accepts the right
answer and names the mistake in a wrong one."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import cells
from lstm_lib.activations import sigmoid
from lstm_lib.course import speed_chain
from lstm_lib.course.exercises import ch13
from lstm_lib.course.widgets import step_cost
from lstm_lib.lstm import gate_scale

SHAPES = [(3, 6, 4, 5), (1, 1, 1, 1), (2, 5, 1, 3), (1, 4, 2, 1), (1, 7, 1, 2)]  # B, T, I, H


def lstm64(I, H, rng):
    lay = L.LSTM(I, H, dtype=np.float64, rng=rng)
    for p in lay.params.values():
        p[...] += 0.3 * rng.standard_normal(p.shape)
    return lay


def run(layer, x, dh):
    y = layer.forward(x)
    return y, layer.backward(dh), {k: g.copy() for k, g in layer.grads.items()}


# --- the chain ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("step", list(speed_chain.STEPS))
def test_each_step_equals_the_library_layer(step, shape, rng):
    B, T, I, H = shape
    lay = lstm64(I, H, rng)
    x, dh = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    y_ref, dx_ref, g_ref = run(lay, x, dh)
    model = speed_chain.STEPS[step].from_layer(lay)
    y, dx, g = run(model, x, dh)
    np.testing.assert_allclose(y, y_ref, atol=1e-12, rtol=0)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12, rtol=0)
    assert set(g) == set(g_ref)
    for k in g_ref:
        np.testing.assert_allclose(g[k], g_ref[k], atol=1e-11, rtol=0, err_msg=k)


def test_the_chain_starts_from_the_reference_layer_and_each_step_subclasses_the_last():
    steps = list(speed_chain.STEPS.values())
    assert steps[0] is L.ReferenceLSTM
    for before, after in zip(steps, steps[1:]):
        assert after.__bases__ == (before,)


def test_backward_twice_gives_the_same_grads(rng):
    lay = lstm64(2, 3, rng)
    x, dh = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    for cls in speed_chain.STEPS.values():
        m = cls.from_layer(lay)
        _, _, g1 = run(m, x, dh)
        _, _, g2 = run(m, x, dh)
        for k, g in g1.items():
            np.testing.assert_array_equal(g, g2[k])


def test_a_broken_step_is_caught(rng):
    """The equality test above notices a wrong step: drop the forget gate's derivative."""
    class Broken(speed_chain.LoopFreeGradsLSTM):
        def gates_backward(self, dh, dc, cache):
            dz, dc_prev = super().gates_backward(dh, dc, cache)
            H = self.hidden_size
            dz[:, H:2 * H] /= cache.f * (1 - cache.f)
            return dz, dc_prev
    lay = lstm64(2, 3, rng)
    x, dh = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    _, dx_ref, g_ref = run(lay, x, dh)
    _, dx, g = run(Broken.from_layer(lay), x, dh)
    assert np.abs(g["W_x"] - g_ref["W_x"]).max() > 1e-3
    assert np.abs(dx - dx_ref).max() > 1e-3


@pytest.mark.parametrize("shape", [(3, 6, 4, 5), (1, 1, 1, 1), (2, 5, 1, 3)])
def test_float32_library_layer_is_close_to_the_float64_reference(shape, rng):
    B, T, I, H = shape
    lay = lstm64(I, H, rng)
    x, dh = rng.standard_normal((B, T, I)), rng.standard_normal((B, T, H))
    y_ref, dx_ref, g_ref = run(L.ReferenceLSTM.from_layer(lay), x, dh)
    lay32 = L.LSTM(I, H, dtype=np.float32)
    for k in lay.params:
        lay32.params[k][...] = lay.params[k]
    y, dx, g = run(lay32, x, dh)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(y, y_ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-5, rtol=0)
    for k in g_ref:
        np.testing.assert_allclose(g[k], g_ref[k], atol=1e-5 * max(1, np.abs(g_ref[k]).max()), rtol=0)


# --- the cost-model widget -----------------------------------------------------------------------

def test_step_cost_model_parts_and_crossover():
    m = step_cost.step_time_model(32, np.array([64.0, 128.0]), input_size=1, overhead_us=15.0,
                                  gflops=50.0, elem_ns=15.0)
    np.testing.assert_allclose(m["matmul"], 6 * 32 * 4 * np.array([64, 128]) * np.array([65, 129]) / 50e3)
    np.testing.assert_allclose(m["elementwise"], 32 * np.array([64, 128]) * 15 / 1e3)
    cross = step_cost.crossover_hidden(32, overhead_us=15.0, gflops=50.0)
    below = step_cost.step_time_model(32, cross - 1, overhead_us=15.0, gflops=50.0)
    at = step_cost.step_time_model(32, cross, overhead_us=15.0, gflops=50.0)
    assert below["matmul"] <= 15.0 < at["matmul"]
    assert f"from H = {cross} on" in step_cost.step_time_summary(32, 15.0, 50.0)
    # more overhead per step moves the crossover to larger layers
    assert step_cost.crossover_hidden(32, overhead_us=30.0) > cross


def test_step_cost_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    monkeypatch.setattr(step_cost, "plot_step_time", tiny_figure)
    box = step_cost.step_cost_widget()
    batch = sliders_of(box)[0]
    batch.value = 1
    assert readout_of(box).startswith("batch 1:")


def test_step_cost_figure_draws():
    fig = step_cost.plot_step_time(batch=8)
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt
    plt.close(fig)


# --- exercise checkers -------------------------------------------------------------------------

def _gate_scale_with(**change):
    """The right (s, m) of exercise 1 with some entries changed: change = {"s": (block, value)}."""
    def fn(H):
        s, m = gate_scale(H, np.float64)
        for name, (block, value) in change.items():
            {"s": s, "m": m}[name][block * H:(block + 1) * H] = value
        return s, m
    return fn


def test_gate_scale_checker_names_the_mistakes():
    v = ch13.check_gate_scale.verdict
    assert v(lambda H: gate_scale(H, np.float64))[0]
    assert "the candidate g (the third block) is a tanh" in v(_gate_scale_with(s=(2, 0.5), m=(2, 0.5)))[1]
    swapped = lambda H: tuple(np.r_[a[:H], a[2 * H:3 * H], a[H:2 * H], a[3 * H:]]
                              for a in gate_scale(H, np.float64))
    assert "the f block comes out a tanh" in v(swapped)[1]
    assert "halves both the argument and the result" in v(_gate_scale_with(s=(0, 1.0)))[1]
    assert "s = m = 0.5 in the i, f and o blocks" in v(_gate_scale_with(m=(3, 0.0)))[1]
    assert "s = 1 and m = 0 there" in v(_gate_scale_with(m=(2, 0.5)))[1]
    assert "return two arrays" in v(lambda H: np.ones(4 * H))[1]
    assert "4H = 12" in v(lambda H: (np.ones(H), np.ones(H)))[1]
    assert "raised ZeroDivisionError" in v(lambda H: 1 / 0)[1]
    assert "no answer yet" in v(None)[1]


def test_the_gate_scale_answer_gives_the_gates_of_the_readable_step(rng):
    """What exercise 1 asks for is what the fast layer uses: tanh(s z) s + m = sigmoid/tanh."""
    H = 5
    z = rng.standard_normal((3, 4 * H)) * 4
    s, m = gate_scale(H, np.float64)
    want = np.concatenate([sigmoid(z[:, :2 * H]), np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])], 1)
    np.testing.assert_allclose(ch13.gates_from(z, s, m), want, atol=1e-15)


def test_stream_flops_checker_names_the_mistakes():
    v = ch13.check_stream_flops.verdict
    want = 2 * (16 + 3 + 1) * 64
    assert v(want)[0] and v(float(want))[0]
    assert "two operations" in v(want / 2)[1]
    assert "a 1 at its end for the bias" in v(2 * 19 * 64)[1]
    assert "4H columns, not H" in v(2 * 20 * 16)[1]
    assert "only runs forward" in v(3 * want)[1]
    assert "the row holds h too" in v(2 * 4 * 64)[1]
    assert "not it" in v(12345)[1]
    assert "should be a number" in v("many")[1]


def _multipliers_with(**wrong):
    """Exercise 3's right answer with some of the five replaced by a function of the inputs."""
    def fn(i, f, g, o, tc, c_prev):
        got = dict(zip(ch13.NAMES, ch13.reference_multipliers(i, f, g, o, tc, c_prev)))
        for name, make in wrong.items():
            got[name] = make(i, f, g, o, tc, c_prev)
        return tuple(got[k] for k in ch13.NAMES)
    return fn


def test_multipliers_checker_names_the_mistakes():
    v = ch13.check_multipliers.verdict
    assert v(ch13.reference_multipliers)[0]
    cases = {
        "output gate's sigmoid has a derivative": {"to_do": lambda i, f, g, o, tc, cp: tc * o},
        "multiplied by tanh(c)": {"to_do": lambda i, f, g, o, tc, cp: o * (1 - o)},
        "1 - tanh(c)**2, not 1 - tanh(c)": {"to_dc": lambda i, f, g, o, tc, cp: o * (1 - tc)},
        "multiply by o as well": {"to_dc": lambda i, f, g, o, tc, cp: 1 - tc ** 2},
        "reaching i is multiplied by g": {"to_di": lambda i, f, g, o, tc, cp: i * (1 - i)},
        "reaching f is multiplied by c_prev": {"to_df": lambda i, f, g, o, tc, cp: f * (1 - f)},
        "not tanh(c)": {"to_df": lambda i, f, g, o, tc, cp: tc * f * (1 - f)},
        "g is a tanh, not a sigmoid": {"to_dg": lambda i, f, g, o, tc, cp: i * g * (1 - g)},
        "reaching g is multiplied by i": {"to_dg": lambda i, f, g, o, tc, cp: 1 - g ** 2},
        "to_dg is off by": {"to_dg": lambda i, f, g, o, tc, cp: 2 * i * (1 - g ** 2)},
    }
    for message, wrong in cases.items():
        assert message in v(_multipliers_with(**wrong))[1], message
    assert "return five arrays" in v(lambda *a: a[0])[1]
    assert "expected (4, 2, 3)" in v(lambda *a: [m[0] for m in ch13.reference_multipliers(*a)])[1]


def test_the_multipliers_reproduce_the_readable_backward_step(rng):
    """With exercise 3's multipliers, one backward step of the fast loop gives what
    cells.lstm_gates_backward gives."""
    i, f, g, o, tc, c_prev = (a[0] for a in ch13.exercise_gate_values())  # one step, (B, H)
    dh, dc_next = rng.standard_normal(i.shape), rng.standard_normal(i.shape)
    cache = cells.LSTMStepCache(None, None, c_prev, i, f, g, o, tc, None, None)
    dz, dc_prev = cells.lstm_gates_backward(dh, dc_next, cache)
    to_do, to_dc, to_di, to_df, to_dg = ch13.reference_multipliers(i, f, g, o, tc, c_prev)
    dc = dh * to_dc + dc_next
    np.testing.assert_allclose(dz, np.concatenate([dc * to_di, dc * to_df, dc * to_dg, dh * to_do], 1),
                               atol=1e-14)
    np.testing.assert_allclose(dc_prev, dc * f, atol=1e-14)


def _step(**mistakes):
    return lambda x, h, c, W: ch13._reference_step(x, h, c, W, **mistakes)


def test_stream_step_checker_names_the_mistakes():
    v = ch13.check_stream_step.verdict
    assert v(_step())[0]
    assert "[h | x | 1]" in v(_step(order="xh1"))[1]
    assert "i, f, g, o" in v(_step(gates="ifog"))[1]
    assert "tanh, not a sigmoid" in v(_step(g_act=sigmoid))[1]
    assert "keeps f * c_prev" in v(_step(keep_c=False))[1]
    assert "o * tanh(c)" in v(_step(tanh_c=False))[1]
    zeros = np.zeros((1, 3))
    assert "next call starts" in v(lambda x, h, c, W: ch13._reference_step(x, zeros, zeros, W))[1]
    assert "shape" in v(lambda x, h, c, W: (np.zeros(3), c))[1]


def test_stream_step_answer_is_what_the_library_stream_does():
    layer, W, x = ch13.exercise_stream_inputs()
    stream = layer.stream()
    np.testing.assert_allclose(np.stack([stream.step(x[:, t]) for t in range(6)], 1),
                               ch13._run(x, W), atol=1e-12)
