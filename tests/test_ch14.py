"""Chapter 14: the study's tasks and training, the shipped results, the widget's functions,
and the exercise checkers (each shown rejecting the typical wrong answers)."""
import math

import numpy as np
import pytest

from lstm_lib.activations import sigmoid
from lstm_lib.course import variant_study as vs
from lstm_lib.course.exercises import ch14

# --- the reset task --------------------------------------------------------------------------


def test_reset_stream_is_a_running_sum_that_restarts_at_markers():
    x, y = vs.reset_sum_stream(50, 400, np.random.default_rng(0), p_reset=0.1)
    assert x.shape == (50, 400, 2) and y.shape == (50, 400, 1) and x.dtype == np.float32
    values, marks = x[..., 0].astype(np.float64), x[..., 1]
    assert set(np.unique(marks)) == {0.0, 1.0} and abs(marks.mean() - 0.1) < 0.01
    for n in range(3):
        total = 0.0
        for t in range(400):
            total = values[n, t] if marks[n, t] else total + values[n, t]
            assert abs(y[n, t, 0] - total) < 1e-4
    assert np.allclose(y[marks == 1, 0], values[marks == 1], atol=1e-6)  # a marker starts anew


def test_normalized_mse_of_constant_guess_is_one():
    y = np.random.default_rng(1).standard_normal((10, 20, 1))
    assert vs.normalized_mse(np.full_like(y, y.mean()), y) == pytest.approx(1.0)
    assert vs.normalized_mse(y, y) == 0.0


def test_stream_model_carries_its_state_between_calls():
    model = vs.reset_model("vanilla", 4, rng=np.random.default_rng(2)).astype(np.float64)
    x, _ = vs.reset_sum_stream(2, 30, np.random.default_rng(3))
    x = x.astype(np.float64)
    whole = model.forward(x)
    model.reset_state()
    parts = np.concatenate([model.forward(x[:, :10]), model.forward(x[:, 10:])], axis=1)
    np.testing.assert_allclose(parts, whole, atol=1e-12)
    model.carry = False
    model.forward(x[:, :10])
    assert not np.allclose(model.forward(x[:, 10:]), whole[:, 10:])


def test_train_functions_record_curves_and_learn():
    _, r = vs.train_adding("vanilla", length=8, steps=300, eval_every=100, n_test=100, lr=1e-2)
    assert r["steps"] == [100, 200, 300] and len(r["metric"]) == 3 and r["final"] == r["metric"][-1]
    assert r["final"] < 0.1 and r["task"] == "adding" and r["params"] == 4 * 16 * 19 + 17
    _, r = vs.train_reset("CIFG", steps=200, eval_every=100, test_length=200)
    assert r["metric"][-1] < r["metric"][0] < 1.5 and r["task"] == "reset"


def test_train_lm_on_a_short_corpus():
    corpus = vs.lm_data(max_chars=30_000)
    _, r = vs.train_lm("NIG", hidden_size=16, steps=60, eval_every=30, corpus=corpus,
                       val_chars=1000, batch_size=8)
    assert r["steps"] == [30, 60] and r["final"] < np.log2(corpus.vocab_size)


def test_divergence_is_recorded_not_hidden(monkeypatch):
    """A run whose gradient becomes NaN stops, says where, and has no final value."""
    calls = iter(range(10**6))
    monkeypatch.setattr(vs, "clip_grad_norm", lambda model, clip: float("nan") if next(calls) >= 20 else 1.0)
    _, r = vs.train_reset("vanilla", steps=50, eval_every=10, test_length=100)
    assert r["diverged_at"] == 21 and r["final"] is None and len(r["metric"]) == 2


# --- the shipped results ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def study():
    from lstm_lib.course.results import load_result

    return load_result("variants.json")


def test_shipped_study_is_complete(study):
    from lstm_lib.variants import VARIANTS

    runs = {(r["task"], r["variant"], r["forget_bias"], r["seed"]) for r in study["runs"]}
    for task in vs.TASKS:
        for label, fb in study["configs"]:
            for seed in study["seeds"][task]:
                assert (task, label, fb, seed) in runs
        assert len(study["seeds"][task]) >= 3
    assert {label for label, _ in study["configs"]} == set(VARIANTS)
    assert {fb for label, fb in study["configs"] if label == "vanilla"} == {0.0, 1.0, 2.0}


def test_study_summary_and_clear_difference(study):
    s = vs.summarize(study, "reset", "vanilla")
    finals = [r["final"] for r in study["runs"] if r["task"] == "reset" and r["variant"] == "vanilla"
              and r["forget_bias"] == 1.0]
    assert s["n"] == len(finals) and s["min"] == min(finals) and s["max"] == max(finals)
    assert s["mean"] == pytest.approx(np.mean(finals)) and s["median"] == pytest.approx(np.median(finals))
    noaf = vs.summarize(study, "lm", "NOAF")  # one run blew up: the median is a seed's value, the mean is not
    assert noaf["median"] in noaf["values"] and noaf["mean"] > 5 * noaf["median"]
    a = {"min": 0.1, "max": 0.2, "diverged": 0}
    assert vs.clearly_lower(a, {"min": 0.3, "max": 0.5, "diverged": 0})
    assert not vs.clearly_lower(a, {"min": 0.15, "max": 0.5, "diverged": 0})
    assert not vs.clearly_lower(a, {"min": 0.15, "max": 0.5, "diverged": 1})
    assert vs.clearly_lower(a, {"min": None, "max": None, "diverged": 3})  # every seed diverged
    assert not vs.clearly_lower({"min": 0.1, "max": 0.2, "diverged": 1}, {"min": 0.3, "max": 0.5, "diverged": 0})


def _made_up_study(finals):
    """A study of made-up final values: finals[(task, label)] = one value per seed."""
    return {"runs": [{"task": task, "variant": label, "forget_bias": 1.0, "seed": seed, "final": v}
                     for (task, label), values in finals.items() for seed, v in enumerate(values)]}


def test_sign_test_flags_a_variant_worse_on_every_data_set_that_no_range_separates():
    """A variant a little worse than vanilla in every seed pair of every task: the ranges overlap
    on each task, so the non-overlap rule says nothing; the sign test flags it, at (1/2)^15."""
    base = [1.0, 2.0, 3.0, 4.0, 5.0]
    finals = {}
    for task in vs.TASKS:
        finals[task, "vanilla"] = base
        finals[task, "slightly_worse"] = [v + 0.5 for v in base]
        finals[task, "alike"] = [v + (0.5 if k % 2 else -0.5) for k, v in enumerate(base)]
    study = _made_up_study(finals)
    for task in vs.TASKS:
        assert not vs.clearly_lower(vs.summarize(study, task, "vanilla"), vs.summarize(study, task, "slightly_worse"))
    worse = vs.sign_test(study, "slightly_worse")
    assert (worse["worse"], worse["n"], worse["tasks_worse"]) == (15, 15, 3)
    assert worse["p"] == pytest.approx(0.5 ** 15) and worse["all_chance"] == pytest.approx(0.5 ** 15)
    assert worse["tasks_chance"] == pytest.approx(1 / 8) and vs.flagged_worse(worse)
    alike = vs.sign_test(study, "alike")
    assert alike["worse"] == 6 and not vs.flagged_worse(alike)  # 2 of 5 per task
    assert alike["p"] == pytest.approx(sum(math.comb(15, j) for j in range(6, 16)) / 2 ** 15)


def test_sign_test_counts_a_diverged_run_as_worst():
    finals = {(task, label): [1.0] * 5 for task in vs.TASKS for label in ("vanilla", "blew_up")}
    finals["lm", "blew_up"] = [None, 1.0, 1.0, 1.0, 1.0]
    finals["lm", "vanilla"] = [2.0, 2.0, 2.0, 2.0, 2.0]
    t = vs.sign_test(_made_up_study(finals), "blew_up")
    assert t["worse_by_task"]["lm"] == (1, 5) and t["worse"] == 1


def test_sign_test_on_the_shipped_study(study):
    from lstm_lib.variants import VARIANTS
    flagged = {label for label in VARIANTS if label != "vanilla" and vs.flagged_worse(vs.sign_test(study, label))}
    assert flagged == {"peepholes", "NFG", "NOG"}
    noaf = vs.sign_test(study, "NOAF")
    assert noaf["worse_by_task"] == {"adding": (2, 5), "reset": (4, 5), "lm": (4, 5)} and not vs.flagged_worse(noaf)


def test_fgr_record_is_what_the_code_computes(study):
    """The FGR runs were made in experiments/variants.py, too slow for the chapter: recompute a
    cheap part: the first evaluation of seed 0 on the adding problem (100 training steps; its
    batches are drawn step by step, so a short run is the long one's start) and, from the shipped
    seed-0 weights, the final test score of the adding and reset runs."""
    from lstm_lib.course.widgets import variants as w

    stored = {(r["task"], r["seed"]): r for r in study["runs"] if r["variant"] == "FGR"}
    _, first = vs.train_adding("FGR", seed=0, **dict(study["settings"]["adding"], steps=100))
    assert first["metric"][0] == pytest.approx(stored["adding", 0]["metric"][0], rel=1e-3)
    model = w.trained_model("reset", "FGR")
    x_test, y_test = vs.reset_sum_stream(16, 2000, np.random.default_rng(999))
    assert vs.evaluate_stream(model, x_test, y_test) == pytest.approx(stored["reset", 0]["final"], rel=1e-3)
    from lstm_lib.datasets import adding_problem
    from lstm_lib.losses import MSELoss

    model = w.trained_model("adding", "FGR")
    x, y = adding_problem(500, 50, rng=np.random.default_rng(999))
    mse = MSELoss().forward(model.forward(x.astype(np.float64)), y)
    assert mse == pytest.approx(stored["adding", 0]["final"], rel=1e-3)
    assert model.layers[0].params["R"].shape == (48, 48)


def test_shipped_weights_are_small_and_load():
    import pathlib

    from lstm_lib.course import results
    from lstm_lib.course.widgets import variants as w
    from lstm_lib.variants import VARIANTS

    path = pathlib.Path(results.__file__).parent / w.WEIGHTS
    assert path.stat().st_size < 300_000
    for task in w.TASK_LABELS:
        assert w.stored_variants(task) == list(VARIANTS)
    model = w.trained_model("reset", "NFG")
    assert model.dtype == np.float64 and model.layers[0].spec.gates == "igo"
    with pytest.raises(ValueError, match="stored"):
        w.trained_model("reset", "GRU")


def test_widget_trace_and_summary_follow_the_controls():
    from lstm_lib.course.widgets import variants as w

    tr = w.trace("reset", "vanilla", 0)
    T = w.RESET_SHOWN
    assert tr["x"].shape == (T, 2) and tr["y"].shape == (T,) and tr["pred"].shape == (T, 1)
    assert tr["gates"]["c"].shape == (T, 16) and abs(tr["corr"]) > 0.5
    assert (w.trace("reset", "NFG", 0)["gates"]["f"] == 1).all()
    a = w.trace("adding", "vanilla", 3)
    assert a["x"].shape == (50, 2) and a["y"].shape == (1,)
    texts = {w.variant_summary(task, label, seq) for task in ("adding", "reset")
             for label in ("vanilla", "NFG") for seq in (0, 1)}
    assert len(texts) == 8


def test_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    from lstm_lib.course.widgets import variants as w

    monkeypatch.setattr(w, "plot_variant", tiny_figure)
    box = w.variant_widget()
    before = readout_of(box)
    seq, task, label = sliders_of(box)
    seq.value = 5
    assert readout_of(box) != before and "sequence 5" in readout_of(box)
    label.value = "NFG"
    assert readout_of(box).startswith("NFG")
    task.value = "adding"
    assert "prediction" in readout_of(box)


def test_reset_needs_the_forget_gate_in_the_shipped_weights():
    """The mechanism the chapter shows: the trained vanilla cell's forget gate of its memory
    unit closes at the markers; the no-forget-gate cell's state keeps drifting."""
    from lstm_lib.course.widgets import variants as w

    tr = w.trace("reset", "vanilla", 0)
    marks = tr["x"][:, 1] == 1
    f = tr["gates"]["f"][:, tr["unit"]]
    assert f[marks].mean() < 0.5 < f[~marks].mean()


# --- exercise 1: the CIFG cell ------------------------------------------------------------------

def cifg_step(x, h_prev, c_prev, W_x, W_h, b, mistake=None):
    H = h_prev.shape[1]
    z = x @ W_x + h_prev @ W_h + b
    f, g, o = sigmoid(z[:, :H]), np.tanh(z[:, H:2 * H]), sigmoid(z[:, 2 * H:])
    i = f if mistake == "i=f" else 1 - f
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * (c if mistake == "no_tanh" else tc)
    return h, c, (x, h_prev, c_prev, f, g, o, tc, W_x, W_h)


def cifg_step_backward(dh, dc, cache, mistake=None):
    x, h_prev, c_prev, f, g, o, tc, W_x, W_h = cache
    do = dh * tc
    dc = dc + dh * o * (1 if mistake == "no_tanh_grad" else 1 - tc ** 2)
    di = dc * g
    df = dc * c_prev + {"uncoupled": 0, "plus": di}.get(mistake, -di)
    dz = np.concatenate([df * f * (1 - f), dc * (1 - f) * (1 - g ** 2), do * o * (1 - o)], axis=1)
    dc_prev = dc if mistake == "no_f_on_highway" else dc * f
    return dz @ W_x.T, dz @ W_h.T, dc_prev, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)


def test_check_cifg_accepts_a_right_answer():
    ok, msg = ch14.check_cifg.verdict(cifg_step, cifg_step_backward)
    assert ok, msg


@pytest.mark.parametrize("mistake, words", [
    ("uncoupled", "path through i = 1 - f"),
    ("plus", "sign of the coupling term"),
    ("no_tanh_grad", "derivative of tanh(c)"),
    ("no_f_on_highway", "dc_prev"),
])
def test_check_cifg_names_backward_mistakes(mistake, words):
    ok, msg = ch14.check_cifg.verdict(cifg_step, lambda dh, dc, cache: cifg_step_backward(dh, dc, cache, mistake))
    assert not ok and words in msg, msg


@pytest.mark.parametrize("mistake, words", [("i=f", "i = f"), ("no_tanh", "tanh(c) is missing")])
def test_check_cifg_names_forward_mistakes(mistake, words):
    ok, msg = ch14.check_cifg.verdict(lambda *a: cifg_step(*a, mistake=mistake), cifg_step_backward)
    assert not ok and words in msg, msg


def test_check_cifg_other_failures():
    assert not ch14.check_cifg.verdict(None)[0]
    ok, msg = ch14.check_cifg.verdict(cifg_step, None)
    assert not ok and "both functions" in msg
    ok, msg = ch14.check_cifg.verdict(lambda *a: cifg_step(*a)[:2], cifg_step_backward)
    assert not ok and "three things" in msg

    def crashes(*args):
        raise IndexError("index 12 is out of bounds")

    ok, msg = ch14.check_cifg.verdict(crashes, cifg_step_backward)
    assert not ok and "IndexError" in msg


# --- exercise 2: a forget gate by hand -------------------------------------------------------------

def hand_weights(w_g=0.1, b_i=10.0, b_f=10.0, w_fm=-20.0, b_g=0.0, w_h=0.0):
    W_x = np.zeros((2, 4))
    W_x[0, 2], W_x[1, 1] = w_g, w_fm  # the value into g, the marker into f
    return W_x, np.full((1, 4), w_h), np.array([b_i, b_f, b_g, 0.0])


def test_check_hand_wired_accepts_a_cell_that_follows_the_sum():
    assert ch14.check_hand_wired.verdict(*hand_weights())[0]
    assert ch14.check_hand_wired.verdict(*hand_weights(w_g=-0.1, b_i=0.0))[0]  # any fixed i, any sign of s
    err, s, _ = ch14.hand_wired_run(*hand_weights())
    assert err < 1e-6 and s == pytest.approx(0.1, rel=1e-2)  # tanh(0.1 v) is a hair below 0.1 v


@pytest.mark.parametrize("kwargs, words", [
    ({"w_fm": 20.0, "b_f": -10.0}, "opens the forget gate"),
    ({"w_fm": 0.0}, "does not react to the marker"),
    ({"b_f": 5.0}, "raise the forget bias"),
    ({"w_fm": -14.0}, "part of the old sum survives"),
    ({"b_i": -20.0}, "input gate is shut"),
    ({"w_g": 0.0}, "does not read the value"),
    ({"b_g": 0.01}, "offset"),
    ({"w_g": 1.0}, "tanh bends the candidate"),
    ({"w_h": 0.1}, "W_h feeds h back"),
])
def test_check_hand_wired_names_the_mistake(kwargs, words):
    ok, msg = ch14.check_hand_wired.verdict(*hand_weights(**kwargs))
    assert not ok and words in msg, msg


def test_check_hand_wired_input_gate_that_moves_and_bad_shapes():
    W_x, W_h, b = hand_weights(b_i=0.0)
    W_x[0, 0] = 3.0  # i = sigmoid(3 v): the value decides how much of itself is written
    ok, msg = ch14.check_hand_wired.verdict(W_x, W_h, b)
    assert not ok and "input gate moves" in msg, msg
    ok, msg = ch14.check_hand_wired.verdict(np.zeros((4, 2)), W_h, b)
    assert not ok and "(2, 4)" in msg
    assert not ch14.check_hand_wired.verdict(None)[0]
    ok, msg = ch14.check_hand_wired.verdict(np.zeros((2, 4)), np.zeros((1, 4)), np.zeros(4))
    assert not ok and "no answer yet" in msg


# --- exercise 3: PyTorch's two biases -------------------------------------------------------------

def test_check_double_bias():
    s = lambda z: float(sigmoid(np.float64(z)))
    assert ch14.check_double_bias.verdict(s(2.0) ** 20)[0]
    for answer, words in ((s(2.0), "one step"), (s(1.5) ** 20, "bias_ih is added"),
                          (s(0.5) ** 20, "bias_hh is added"), ((s(0.5) * s(1.5)) ** 20, "one sigmoid"),
                          (s(1.0) ** 20, "not averaged"), (2.0 ** 20, "not the bias itself"),
                          (0.3, "is not it")):
        ok, msg = ch14.check_double_bias.verdict(answer)
        assert not ok and words in msg, (answer, msg)
    assert not ch14.check_double_bias.verdict(None)[0]


def test_folded_solutions_in_the_chapter_pass_their_checkers():
    """The solutions a learner unfolds in notebooks/14_which_parts_matter.ipynb are right."""
    import json
    import pathlib
    import re

    from lstm_lib.course.exercises.solutions import folded_solutions, run_solutions

    path = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "14_which_parts_matter.ipynb"
    assert len(folded_solutions(path)) == 2
    namespace = run_solutions(path)
    assert ch14.check_cifg.verdict(namespace["cifg_step"], namespace["cifg_step_backward"])[0]
    assert ch14.check_hand_wired.verdict(namespace["W_x"], namespace["W_h"], namespace["b"])[0]
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")
    inline = re.search(r"is left: `(.*?)`", text).group(1)
    assert ch14.check_double_bias.verdict(eval(inline, namespace))[0]
