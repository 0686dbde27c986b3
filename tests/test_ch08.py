"""Chapter 08: debugging (update-ratio widget, exercise checkers)."""

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import diagnostics
from lstm_lib.course import mystery_bugs
from lstm_lib.course import planted_bugs as bugs
from lstm_lib.course.exercises import ch08
from lstm_lib.course.widgets import debugging

# where each mystery's bug really is (how mystery_bugs.py builds it)
TRUTH = {"A": "step", "B": "gates_backward", "C": "new_grad", "D": "input_grad"}


def test_mysteries_change_the_method_the_truth_names():
    for name, cls in mystery_bugs.MYSTERIES.items():
        overridden = [m for m in ch08.METHODS if m in vars(cls)]
        assert overridden == [TRUTH[name]]


def test_ch08_diagnosis_checker_accepts_the_truth_only():
    assert ch08.check_diagnosis.verdict(TRUTH)[0]
    for name, truth in TRUTH.items():
        for method in ch08.METHODS:
            if method == truth:
                continue
            ok, msg = ch08.check_diagnosis.verdict({**TRUTH, name: method})
            assert not ok and msg.startswith(f"mystery {name} is not in {method}: ")


def test_ch08_diagnosis_checker_gives_the_evidence():
    msg = ch08.check_diagnosis.verdict({**TRUTH, "C": "carry"})[1]
    assert "passes with five time steps" in msg
    msg = ch08.check_diagnosis.verdict({**TRUTH, "D": "gates_backward"})[1]
    assert "only the input gradient is wrong" in msg
    msg = ch08.check_diagnosis.verdict({**TRUTH, "B": "step"})[1]
    assert "forward pass gives exactly what lstm_lib.LSTM gives" in msg
    msg = ch08.check_diagnosis.verdict({**TRUTH, "A": "gates_backward"})[1]
    assert "forward pass already differs" in msg
    assert "replace None" in ch08.check_diagnosis.verdict({k: None for k in TRUTH})[1]
    assert "not one of" in ch08.check_diagnosis.verdict({**TRUTH, "A": "luck"})[1]
    assert "no diagnosis for mystery B" in ch08.check_diagnosis.verdict({"A": "step"})[1]


def test_ch08_evidence_is_what_the_tools_say():
    ev = {k: ch08.evidence(k) for k in TRUTH}
    assert not ev["A"]["forward_right"] and all(ev[k]["forward_right"] for k in "BCD")
    assert not ev["C"]["repeatable"] and all(ev[k]["repeatable"] for k in "ABD")
    assert ev["C"]["fails_1_step"] == ev["C"]["fails_5_steps"] == set()
    assert ev["D"]["fails_1_step"] == {"input"}
    assert {"W_x", "b", "input"} <= ev["B"]["fails_1_step"]


def ratios(model, loss_fn, optimizer, x, y, copy=True, denominator="before", gradient=False,
           lr_times_gradient=False, mean_abs=False, zero_start=None, step=True):
    """The exercise's answer, with switches that plant the typical mistakes (all off: right)."""
    before = {k: p.copy() if copy else p for k, p in model.params.items()}
    if step:
        loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
    optimizer.step()
    norm = (lambda a: np.mean(np.abs(a))) if mean_abs else np.linalg.norm
    out = {}
    for k, p in model.params.items():
        if gradient or lr_times_gradient:
            moved = norm(model.grads[k]) * (optimizer.lr if lr_times_gradient else 1.0)
        else:
            moved = norm(p - before[k])
        size = norm(p if denominator == "after" else before[k])
        if zero_start == "divide" or size > 0:
            out[k] = moved / size
        else:
            out[k] = zero_start if zero_start is not None else (np.inf if moved > 0 else 0.0)
    return out


def test_ch08_update_ratios_checker():
    assert ch08.check_update_ratios.verdict(ratios)[0]
    cases = [({"copy": False}, "live arrays"), ({"denominator": "after"}, "size after the step"),
             ({"gradient": True}, "not about the gradient"), ({"lr_times_gradient": True}, "plain SGD only"),
             ({"mean_abs": True}, "np.linalg.norm"), ({"zero_start": "divide"}, "NaN"),
             ({"zero_start": 0.0}, "its ratio is inf"), ({"step": False}, "forward and backward first")]
    for kwargs, expected in cases:
        with np.errstate(all="ignore"):
            ok, msg = ch08.check_update_ratios.verdict(lambda *a, kw=kwargs: ratios(*a, **kw))
        assert not ok and expected in msg, (kwargs, msg)
    assert "return a dict" in ch08.check_update_ratios.verdict(lambda *a: [0.1])[1]
    assert "every parameter" in ch08.check_update_ratios.verdict(lambda *a: {"0.W_x": 0.1})[1]


def test_ch08_update_ratios_checker_agrees_with_diagnostics():
    """The checker's right answer is diagnostics.update_ratio_check's, and a read-out-only
    optimiser gives exactly 0 for the LSTM's arrays (the frozen ones)."""
    from lstm_lib.course.exercises.ch08 import _cases

    x = np.sin(0.3 * np.arange(13, dtype=np.float32))[None, :, None]
    for what, make_model, make_opt in _cases():
        m1, m2 = make_model(), make_model()
        mine = ratios(m1, L.MSELoss(), make_opt(m1), x[:, :-1], x[:, 1:])
        report = diagnostics.update_ratio_check(m2, L.MSELoss(), make_opt(m2), x[:, :-1], x[:, 1:])
        assert mine == pytest.approx(report.ratios, rel=1e-5), what
        if "read-out" in what:
            assert [k for k, r in mine.items() if r == 0.0] == ["0.W_x", "0.W_h", "0.b"]


def test_readout_only_optimiser_moves_the_readout_and_not_the_lstm():
    rng = np.random.default_rng(0)
    model = L.Sequential(L.LSTM(1, 6, rng=rng), L.Linear(6, 1, rng=rng))
    before = diagnostics.snapshot(model)
    x, y = debugging.sine_wave()
    report = diagnostics.overfit_test(model, L.MSELoss(), bugs.readout_only_adam(model), x, y,
                                      steps=250)
    assert report.losses[-1] < 0.25 * report.losses[0]  # the loss goes down ...
    assert all(np.array_equal(before[k], model.params[k]) for k in ("0.W_x", "0.W_h", "0.b"))
    assert not np.array_equal(before["1.W"], model.params["1.W"])  # ... the read-out learns


def test_noisy_grad_lstm_is_random_init_grad_lstm_at_scale_one():
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    slow = bugs.RandomInitGradLSTM(3, 4, dtype=np.float64)
    fast = bugs.NoisyGradLSTM(3, 4, dtype=np.float64)
    for k in slow.params:
        fast.params[k][...] = slow.params[k]
    dh = np.random.default_rng(2).standard_normal((2, 5, 4))
    for _ in range(2):
        slow.forward(x), fast.forward(x)
        slow.backward(dh), fast.backward(dh)
        for k in slow.grads:
            assert np.allclose(slow.grads[k], fast.grads[k], atol=1e-12)
    clean = L.LSTM(3, 4, dtype=np.float64)
    for k in clean.params:
        clean.params[k][...] = slow.params[k]
    clean.forward(x)
    clean.backward(dh)
    noise = np.concatenate([(slow.grads[k] - clean.grads[k]).ravel() for k in clean.grads])
    assert 0.8 < noise.std() < 1.2  # np.random.randn's scale, not 0.01


def test_never_stepping_optimiser_has_zero_ratios_at_every_rate():
    for log10_lr in (-4.0, -2.0, 0.0):
        r = debugging.update_ratio_run(log10_lr)
        assert all(v == 0.0 for v in r["never_steps"].values())
        assert np.all(r["loss_never_steps"] == r["loss_never_steps"][0])
        assert all(v > 0 for v in r["correct"].values())


def test_ratios_scale_with_the_learning_rate():
    """A small SGD step moves each weight by lr * ||grad|| / ||p||: ten times the learning rate
    gives (nearly) ten times the ratio while the steps are small."""
    small, big = debugging.update_ratio_run(-4.0), debugging.update_ratio_run(-3.0)
    for name, v in small["correct"].items():
        if np.isfinite(v):
            assert big["correct"][name] / v == pytest.approx(10.0, rel=0.02)
    assert small["lr"] == 1e-4 and debugging.learning_rate(-2.5) == 0.00316
    # the output bias starts at zero: no size to compare with, marked inf as update_ratios does
    assert small["correct"]["1.b"] == np.inf and small["never_steps"]["1.b"] == 0.0


def test_ratios_match_diagnostics_on_the_last_step():
    r = debugging.update_ratio_run(-2.0, steps=1)
    from lstm_lib.base import Sequential
    from lstm_lib.layers import Linear
    from lstm_lib.losses import MSELoss
    from lstm_lib.lstm import LSTM
    from lstm_lib.optim import SGD

    rng = np.random.default_rng(0)
    model = Sequential(LSTM(1, 8, rng=rng), Linear(8, 1, rng=rng))
    x, y = debugging.sine_wave()
    report = diagnostics.update_ratio_check(model, MSELoss(), SGD(model, 0.01), x, y)
    assert r["correct"] == pytest.approx(report.ratios)


def test_debugging_readout_and_figure():
    import matplotlib.pyplot as plt

    text = debugging.summary_update_ratios(-2.0)
    r = debugging.update_ratio_run(-2.0)
    assert f"{r['correct']['0.W_x']:.1e}" in text and "in the band" in text
    assert "NoStepSGD: 0.W_x 0" in text
    high = debugging.summary_update_ratios(0.0)
    assert high != text and "too large" in high
    fig = debugging.plot_update_ratios(-2.0)
    blue = [p.get_height() for p in fig.axes[0].patches if p.get_width() == pytest.approx(0.4)][:4]
    assert blue == pytest.approx([r["correct"][k] for k in ("0.W_x", "0.W_h", "0.b", "1.W")])
    plt.close(fig)


def test_debugging_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(debugging, "plot_update_ratios", tiny_figure)
    box = debugging.update_ratio_widget()
    lr = sliders_of(box)[0]
    before = readout_of(box)
    lr.value = lr.min
    assert readout_of(box) != before and "learning rate 0.0001" in readout_of(box)
    assert lr.continuous_update is False


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker (the diagnosis solution
    runs its investigation with the notebook's x_check and initial state)."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "08_debugging.ipynb"
    context = {"MYSTERIES": mystery_bugs.MYSTERIES, "diagnostics": diagnostics,
               "x_check": np.random.default_rng(0).standard_normal((2, 5, 3)),
               "h0": np.full((2, 4), 0.3), "c0": np.full((2, 4), -0.2)}
    checks = [("diagnosis", ch08.check_diagnosis), ("update_ratios", ch08.check_update_ratios)]
    assert not failing_solutions(notebook, checks, **context)


def test_bug_map_places_every_planted_bug_where_its_method_is():
    """The chapter-08 map puts each bug in the box of the part it changes: each layer bug names
    a method that the planted class really overrides, and every bug and tool label is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overrides = {4: (bugs.NoSigmoidGradLSTM, "gates_backward"), 5: (bugs.NoCarryLSTM, "carry"),
                 6: (bugs.TransposedWeightLSTM, "input_grad"), 1: (bugs.RandomInitGradLSTM, "new_grad")}
    for n, (cls, method) in overrides.items():
        where, row, _ = debugging.BUG_MAP[n]
        assert where == "backward" and row == method
        assert getattr(cls, method) is not getattr(bugs.ReferenceLSTM, method), (n, method)
    assert debugging.BUG_MAP[2][:2] == ("optimiser", "step") and debugging.BUG_MAP[3][:2] == ("optimiser", "params")
    fig = debugging.draw_bug_map()
    gids = {a.get_gid() for a in fig.axes[0].get_children() if a.get_gid()}
    assert {f"bugmap:bug{n}" for n in range(1, 7)} <= gids
    assert {"bugmap:tools:forward", "bugmap:tools:backward", "bugmap:tools:optimiser", "bugmap:tools:loop"} <= gids
    plt.close(fig)
