"""The LSTM variants of lstm_lib.variants: gradient checks, planted bugs, parity with the
plain LSTM and with torch.nn.LSTM, and what each variant's cell does."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course.variant_bugs import PLANTED
from lstm_lib.variants import (
    CIFGLSTM,
    VARIANTS,
    FullGateRecurrenceLSTM,
    NoForgetGateLSTM,
    PeepholeLSTM,
    VariantLSTM,
    VariantSpec,
    make_variant,
)

LABELS = list(VARIANTS)


def case(seed=0, B=3, T=5, I=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, I)), rng.standard_normal((B, 4)), rng.standard_normal((B, 4))


@pytest.mark.parametrize("label", LABELS)
def test_gradient_check_passes(label):
    x, h0, c0 = case()
    layer = make_variant(label, 3, 4, rng=np.random.default_rng(1))
    report = L.gradient_check(layer, x, h0=h0, c0=c0)
    assert report.passed, report
    assert set(report.errors) == set(layer.params) | {"input", "h0", "c0"}


@pytest.mark.parametrize("label", LABELS)
def test_planted_bug_fails_the_gradient_check(label):
    x, h0, c0 = case()
    buggy = PLANTED[label](3, 4, rng=np.random.default_rng(1))
    assert isinstance(buggy, VARIANTS[label]) and buggy.bug
    report = L.gradient_check(buggy, x, h0=h0, c0=c0)
    assert not report.passed
    assert report.worst[1] > 1e-3, report  # far from rounding: a real mistake


def test_every_variant_has_a_planted_bug():
    assert set(PLANTED) == set(VARIANTS)


def test_vanilla_equals_lstm_lib_lstm():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 7, 3))
    fast = L.LSTM(3, 5, forget_bias=1.0, rng=np.random.default_rng(3)).astype(np.float64)
    variant = VariantLSTM(3, 5, rng=np.random.default_rng(3)).astype(np.float64)
    for k in fast.params:  # the same initialisation, draw for draw
        np.testing.assert_array_equal(fast.params[k], variant.params[k])
    np.testing.assert_allclose(variant.forward(x), fast.forward(x), atol=1e-12)
    dh = rng.standard_normal((4, 7, 5))
    np.testing.assert_allclose(variant.backward(dh), fast.backward(dh), atol=1e-12)
    for k in fast.grads:
        np.testing.assert_allclose(variant.grads[k], fast.grads[k], atol=1e-12)


def test_vanilla_equals_torch_lstm():
    torch = pytest.importorskip("torch")
    from lstm_lib.interop import from_torch

    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 5, batch_first=True, dtype=torch.float64)
    layer = VariantLSTM.from_layer(from_torch(module))
    x = np.random.default_rng(4).standard_normal((2, 6, 3))
    xt = torch.tensor(x, requires_grad=True)
    out, _ = module(xt)
    dh = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(torch.tensor(dh))
    assert np.abs(layer.forward(x) - out.detach().numpy()).max() < 1e-10
    assert np.abs(layer.backward(dh) - xt.grad.numpy()).max() < 1e-10
    assert np.abs(layer.grads["W_x"] - module.weight_ih_l0.grad.numpy().T).max() < 1e-10
    assert np.abs(layer.grads["W_h"] - module.weight_hh_l0.grad.numpy().T).max() < 1e-10
    assert np.abs(layer.grads["b"] - module.bias_ih_l0.grad.numpy()).max() < 1e-10


def test_torch_double_bias_is_an_effective_forget_bias_of_two():
    torch = pytest.importorskip("torch")
    from lstm_lib.interop import from_torch

    H = 4
    module = torch.nn.LSTM(2, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for bias in (module.bias_ih_l0, module.bias_hh_l0):
            bias.zero_()
            bias[H:2 * H] = 1.0
    b = from_torch(module).params["b"]
    np.testing.assert_array_equal(b[H:2 * H], 2.0)
    np.testing.assert_array_equal(np.delete(b, np.s_[H:2 * H]), 0.0)


def test_gate_semantics_of_each_variant():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 6, 2)) * 3
    traces = {}
    for label in LABELS:
        layer = make_variant(label, 2, 4, dtype=np.float64, rng=np.random.default_rng(7))
        h = layer.forward(x)
        traces[label] = t = layer.gate_traces()
        assert all(v.shape == (3, 6, 4) for v in t.values())
        a = t["c"] if label == "NOAF" else np.tanh(t["c"])
        np.testing.assert_allclose(h, t["o"] * a, atol=1e-12)
    np.testing.assert_allclose(traces["CIFG"]["i"], 1 - traces["CIFG"]["f"])
    assert (traces["NFG"]["f"] == 1).all() and (traces["NIG"]["i"] == 1).all()
    assert (traces["NOG"]["o"] == 1).all()
    assert np.abs(traces["NIAF"]["g"]).max() > 1  # a linear candidate is not squashed
    assert np.abs(traces["vanilla"]["g"]).max() < 1
    for label in ("vanilla", "peepholes", "CIFG", "NIG", "NOG", "NOAF", "NIAF"):
        assert (traces[label]["f"] < 1).all()


def test_cell_of_variant_matches_its_equations():
    """c_t = f c_{t-1} + i g, step by step, for every variant."""
    x = np.random.default_rng(8).standard_normal((2, 5, 2))
    for label in LABELS:
        layer = make_variant(label, 2, 3, dtype=np.float64, rng=np.random.default_rng(9))
        layer.forward(x)
        t = layer.gate_traces()
        c_prev = np.concatenate([np.zeros((2, 1, 3)), t["c"][:, :-1]], axis=1)
        np.testing.assert_allclose(t["c"], t["f"] * c_prev + t["i"] * t["g"], atol=1e-12)


def test_peepholes_at_zero_are_the_plain_lstm():
    x = np.random.default_rng(10).standard_normal((2, 5, 3))
    peep = PeepholeLSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(11))
    plain = VariantLSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(peep.params["W_h"], plain.params["W_h"])
    assert not np.allclose(peep.forward(x), plain.forward(x))  # random peepholes change it
    for k in ("p_i", "p_f", "p_o"):
        peep.params[k][...] = 0
    np.testing.assert_allclose(peep.forward(x), plain.forward(x), atol=1e-14)


def test_parameter_counts():
    I, H = 3, 8
    full = 4 * H * (I + H + 1)
    counts = {label: make_variant(label, I, H).num_params() for label in LABELS}
    assert counts["vanilla"] == counts["NOAF"] == counts["NIAF"] == full
    assert counts["peepholes"] == full + 3 * H
    for label in ("CIFG", "NFG", "NIG", "NOG"):
        assert counts[label] == 3 * H * (I + H + 1)
    assert counts["FGR"] == full + 9 * H * H  # i, f, o of step t-1 into i, f, o of step t


def test_forget_bias_and_missing_blocks():
    H = 4
    assert (CIFGLSTM(2, H, forget_bias=2.0).params["b"][:H] == 2.0).all()  # blocks f, g, o
    assert (NoForgetGateLSTM(2, H, forget_bias=2.0).params["b"] == 0).all()  # no f block
    assert (VariantLSTM(2, H, forget_bias=0.0).params["b"] == 0).all()


def test_grads_are_overwritten_not_accumulated():
    x = np.random.default_rng(12).standard_normal((2, 4, 3))
    layer = PeepholeLSTM(3, 4, dtype=np.float64)
    h = layer.forward(x)
    layer.backward(np.ones_like(h))
    first = {k: g.copy() for k, g in layer.grads.items()}
    layer.forward(x)
    layer.backward(np.ones_like(h))
    for k, g in first.items():
        np.testing.assert_array_equal(layer.grads[k], g)
    assert layer.grads["W_x"].dtype == np.float64 and PeepholeLSTM(3, 4).grads["p_o"].dtype == np.float32


def test_bad_specs_and_names_are_refused():
    with pytest.raises(ValueError, match="coupled"):
        VariantSpec(gates="ifgo", coupled=True)
    with pytest.raises(ValueError, match="'g'"):
        VariantSpec(gates="ifo")
    with pytest.raises(ValueError, match="choose one of"):
        make_variant("GRU", 2, 4)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        make_variant("CIFG", 2, 4).forward(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="before forward"):
        make_variant("NOG", 2, 4).backward(np.zeros((1, 1, 4)))


def test_no_output_activation_lets_h_grow_with_the_cell():
    """With f = 1 and a constant input the cell grows step after step; tanh keeps h in
    (-1, 1), h = o * c does not."""
    x = np.ones((1, 60, 1))
    for cls, bounded in ((VariantLSTM, True), (VARIANTS["NOAF"], False)):
        layer = cls(1, 1, dtype=np.float64, forget_bias=20.0)  # f ~ 1: keeps everything
        p = layer.params
        p["W_x"][...] = [[5.0, 0.0, 5.0, 5.0]]  # i, g, o open for x = 1; f only from its bias
        p["W_h"][...] = 0
        h = layer.forward(x)
        assert (np.abs(h).max() < 1) == bounded


# --- the full-gate-recurrence cell (FGR): its state carries the previous gates ---------------

def test_fgr_gradient_check_with_previous_gates_given():
    """Central differences for every weight, the input and all three parts of the state."""
    x, h0, c0 = case(seed=20)
    q0 = np.random.default_rng(21).random((3, 12))  # gates live in (0, 1)
    layer = FullGateRecurrenceLSTM(3, 4, rng=np.random.default_rng(22))
    report = L.gradient_check(layer, x, h0=h0, c0=c0, q0=q0)
    assert report.passed, report
    assert set(report.errors) == {"W_x", "W_h", "b", "R", "input", "h0", "c0", "q0"}


def fgr_in_torch(torch, x, h0, c0, q0, W_x, W_h, b, R):
    """Greff et al.'s full gate recurrence written with torch ops, independently of the library:
    each gate's pre-activation adds the previous i, f, o through its own H x H block of R."""
    H = h0.shape[1]
    blocks = {(a, n): R[a * H:(a + 1) * H, n * H:(n + 1) * H] for a in range(3) for n in range(3)}
    h, c, prev = h0, c0, (q0[:, :H], q0[:, H:2 * H], q0[:, 2 * H:])
    outs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ W_x + h @ W_h + b
        rec = [sum(prev[a] @ blocks[a, n] for a in range(3)) for n in range(3)]  # into i, f, o
        i = torch.sigmoid(z[:, :H] + rec[0])
        f = torch.sigmoid(z[:, H:2 * H] + rec[1])
        g = torch.tanh(z[:, 2 * H:3 * H])
        o = torch.sigmoid(z[:, 3 * H:] + rec[2])
        c = f * c + i * g
        h = o * torch.tanh(c)
        prev = (i, f, o)
        outs.append(h)
    return torch.stack(outs, dim=1), torch.cat(prev, dim=1)


def test_fgr_equals_a_torch_oracle_with_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    B, T, I, H = 2, 7, 3, 5
    x, h0, c0 = rng.standard_normal((B, T, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    q0 = rng.random((B, 3 * H))
    layer = FullGateRecurrenceLSTM(I, H, dtype=np.float64, rng=np.random.default_rng(24))
    layer.params["R"][...] *= 3  # make the gate recurrence matter
    out = layer.forward(x, h0, c0, q0)
    dh = rng.standard_normal(out.shape)
    dx = layer.backward(dh)
    tt = {k: torch.tensor(v, requires_grad=True) for k, v in
          {"x": x, "h0": h0, "c0": c0, "q0": q0, **layer.params}.items()}
    ref, q_T = fgr_in_torch(torch, tt["x"], tt["h0"], tt["c0"], tt["q0"], tt["W_x"], tt["W_h"], tt["b"], tt["R"])
    (ref * torch.tensor(dh)).sum().backward()
    assert np.abs(out - ref.detach().numpy()).max() < 1e-12
    assert np.abs(layer.state[2] - q_T.detach().numpy()).max() < 1e-12
    assert np.abs(dx - tt["x"].grad.numpy()).max() < 1e-12
    for k in layer.params:
        assert np.abs(layer.grads[k] - tt[k].grad.numpy()).max() < 1e-12, k
    for k, d in zip(("h0", "c0", "q0"), layer.dstate0):
        assert np.abs(d - tt[k].grad.numpy()).max() < 1e-12, k
    # the recurrence is not idle: with R = 0 the output changes
    layer.params["R"][...] = 0
    assert np.abs(layer.forward(x, h0, c0, q0) - out).max() > 1e-2


def test_fgr_with_zero_gate_weights_is_the_plain_lstm_and_carries_its_state():
    x = np.random.default_rng(25).standard_normal((2, 8, 3))
    fgr = FullGateRecurrenceLSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(26))
    plain = VariantLSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(26))
    for k in plain.params:  # the plain blocks are drawn first, exactly as the plain cell's
        np.testing.assert_array_equal(fgr.params[k], plain.params[k])
    fgr.params["R"][...] = 0
    np.testing.assert_allclose(fgr.forward(x), plain.forward(x), atol=1e-14)
    # in two halves, carrying (h, c, q), it computes what it computes in one pass
    fgr.params["R"][...] = np.random.default_rng(27).uniform(-1, 1, fgr.params["R"].shape)
    whole = fgr.forward(x)
    first = fgr.forward(x[:, :3])
    second = fgr.forward(x[:, 3:], *fgr.state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-14)
    with pytest.raises(ValueError, match="q0"):
        fgr.forward(x, q0=np.zeros((2, 4)))
