"""Chapter 15: exercise checkers (each shown rejecting typical wrong answers), widgets, the
state-tracking and speed studies' code and stored results."""
import numpy as np
import pytest

from lstm_lib import scan as S
from lstm_lib.course import CHAPTERS
from lstm_lib.course.exercises import ch15

# --- exercise 3 (Going deeper, A): the combine in log space ------------------------------

def log_combine(left, right):
    (la1, lb1), (la2, lb2) = left, right
    return la1 + la2, np.logaddexp(la2 + lb1, lb2)


def test_log_combine_accepts_the_right_answer():
    ok, msg = ch15.check_log_combine.verdict(log_combine)
    assert ok, msg


@pytest.mark.parametrize("wrong, words", [
    (lambda l, r: (l[0] * r[0], np.logaddexp(r[0] + l[1], r[1])), "products become sums"),
    (lambda l, r: (l[0] + r[0], np.logaddexp(l[0] + r[1], l[1])), "step 2 first"),
    (lambda l, r: (l[0] + r[0], r[0] + l[1] + r[1]), "np.logaddexp"),
    (lambda l, r: (l[0] + r[0], l[1] + r[1]), "np.logaddexp"),
    (lambda l, r: (l[0] + r[0], np.logaddexp(l[0] + l[1], r[1])), "not by a1"),
    (lambda l, r: (l[0] + r[0], np.log(np.exp(r[0] + l[1]) + np.exp(r[1]))), "left log space"),
    (lambda l, r: (np.log(np.exp(l[0]) * np.exp(r[0])), np.logaddexp(r[0] + l[1], r[1])), "underflows"),
    (lambda l, r: (l[0] + r[0],), "pair"),
    (lambda l, r: (l[0] + r[0], np.logaddexp(r[0] + l[1], r[1])[:2]), "shapes"),
])
def test_log_combine_names_the_mistake(wrong, words):
    ok, msg = ch15.check_log_combine.verdict(wrong)
    assert not ok and words in msg, msg


def test_log_combine_rejects_a_combine_that_changes_its_input():
    def in_place(left, right):
        (la1, lb1), (la2, lb2) = left, right
        la2 += la1  # overwrites the right pair's array, which the scan still needs
        return la2, np.logaddexp(la2 - la1 + lb1, lb2)

    ok, msg = ch15.check_log_combine.verdict(in_place)
    assert not ok and "in place" in msg


def test_log_combine_unanswered():
    def todo(left, right):
        raise NotImplementedError

    assert not ch15.check_log_combine.verdict(todo)[0]
    assert "no answer yet" in ch15.check_log_combine.verdict(None)[1]


# --- exercise 1: the backward pass of the recurrence, a reverse scan ---------------------------

def recurrence_backward(a, h, h0, dh):
    a_next = np.ones_like(a)
    a_next[:-1] = a[1:]
    g, _ = S.scan_hillis_steele(a_next[::-1], dh[::-1])
    g = g[::-1]
    h_prev = np.concatenate([h0[None], h[:-1]])
    return g * h_prev, g, a[0] * g[0]


def with_g(total_gradient):
    """An answer whose total gradient g is computed by `total_gradient(a, dh)`, the rest right."""
    def answer(a, h, h0, dh):
        g = total_gradient(a, dh)
        return g * np.concatenate([h0[None], h[:-1]]), g, a[0] * g[0]
    return answer


def test_recurrence_backward_accepts_the_right_answers():
    assert ch15.check_recurrence_backward.verdict(recurrence_backward)[0]

    def with_a_loop(a, dh):
        g, acc = np.zeros_like(dh), np.zeros(dh.shape[1:])
        for t in reversed(range(len(dh))):
            acc = dh[t] + (a[t + 1] * acc if t + 1 < len(dh) else 0)
            g[t] = acc
        return g

    assert ch15.check_recurrence_backward.verdict(with_g(with_a_loop))[0]
    # the library's reverse scan, any method, fed a_{t+1}
    for method in S.METHODS:
        assert ch15.check_recurrence_backward.verdict(
            with_g(lambda a, dh, m=method: S.reverse_scan(np.r_[a[1:], a[:1]], dh, m)[0]))[0]


def test_recurrence_backward_names_the_mistake():
    right_g = lambda a, dh: recurrence_backward(a, np.zeros_like(a), np.zeros(a.shape[1:]), dh)[1]

    def unshifted(a, dh):
        g, _ = S.scan_hillis_steele(a[::-1], dh[::-1])
        return g[::-1]

    def only_last_direct(a, dh):
        d = np.zeros_like(dh)
        d[-1] = dh[-1]
        return right_g(a, d)

    def in_place(a, h, h0, dh):
        dh[:] = right_g(a, dh)
        return recurrence_backward(a, h, h0, dh)

    def h_not_h_prev(a, h, h0, dh):
        g = right_g(a, dh)
        return g * h, g, a[0] * g[0]

    def direct_in_da(a, h, h0, dh):
        g = right_g(a, dh)
        return dh * np.concatenate([h0[None], h[:-1]]), g, a[0] * g[0]

    def dh0_without_a1(a, h, h0, dh):
        da, g, _ = recurrence_backward(a, h, h0, dh)
        return da, g, g[0]

    cases = [(with_g(lambda a, dh: dh.copy()), "just dh"), (with_g(unshifted), "off by one"),
             (with_g(lambda a, dh: S.scan_hillis_steele(a, dh)[0]), "forward in time"),
             (with_g(only_last_direct), "its own direct gradient"),
             (lambda a, h, h0, dh: recurrence_backward(a, h, h0, dh)[:2], "three things"),
             (lambda a, h, h0, dh: [v[:-1] for v in recurrence_backward(a, h, h0, dh)], "shape"),
             (in_place, "in place"), (h_not_h_prev, "not h_t"), (direct_in_da, "total gradient g_t"),
             (dh0_without_a1, "not g_1")]
    for wrong, words in cases:
        ok, msg = ch15.check_recurrence_backward.verdict(wrong)
        assert not ok and words in msg, (words, msg)


# --- exercise 2: parity with a linear recurrence -----------------------------------------------

def test_parity_coefficients():
    right = lambda bits: (1.0 - 2.0 * bits, np.zeros(len(bits)), 1.0)
    assert ch15.check_parity_coefficients.verdict(right)[0]
    cases = [
        (lambda bits: (0.5 + 0.5 * (1 - bits), np.zeros(len(bits)), 1.0), "[0, 1]"),
        (lambda bits: (1.0 - 2.0 * bits, np.zeros(len(bits)), -1.0), "wrong way round"),
        (lambda bits: (1.0 - 2.0 * bits, np.zeros(len(bits)), 0.0), "h0 = 0"),
        (lambda bits: (1.0 - 2.0 * bits, 0.1 * bits, 1.0), "drift"),
        (lambda bits: (np.where(np.cumsum(bits) % 2 == 0, 1.0, -1.0), np.zeros(len(bits)), 1.0),
         "only on x_t"),
        (lambda bits: (1.0 - 2.0 * bits, np.zeros(len(bits))), "three things"),
        (lambda bits: (1.0 - 2.0 * bits[:-1], np.zeros(len(bits) - 1), 1.0), "shape of bits"),
    ]
    for wrong, words in cases:
        ok, msg = ch15.check_parity_coefficients.verdict(wrong)
        assert not ok and words in msg, (words, msg)


# --- the widgets ------------------------------------------------------------------------------

def test_speed_widget_functions():
    from lstm_lib.course.widgets import scan as W

    study = W.load_speed()
    table = W.speed_table(study, 1, 16)
    assert set(table) == {"loop", "hillis_steele", "blelloch", "log", "LSTM"}
    Ts, times, steps = table["loop"]
    np.testing.assert_array_equal(Ts, steps)  # the loop makes one step per time step
    assert (times > 0).all()
    text = W.speed_summary(12, 0, study)
    assert "T = 4096" in text and "24 steps" in text and "12 steps" in text
    assert W.speed_summary(6, 1, study) != W.speed_summary(12, 1, study)
    with pytest.raises(ValueError, match="stored"):
        W.speed_table(study, 3, 3)


def test_gate_widget_functions():
    from lstm_lib.course.widgets import scan as W

    r = W.closed_forms(0.5, 2000)
    assert r["breaks_at"] is not None and 900 < r["breaks_at"] < 1100
    assert np.max(np.abs(r["log"] - r["loop"])) < 1e-12
    assert np.all(np.isfinite(r["linear"][:r["breaks_at"] - 1]))
    assert W.closed_forms(0.99, 1000)["breaks_at"] is None
    assert "breaks at step" in W.gate_summary(0.5) and "stays finite" in W.gate_summary(0.99, 1000)


@pytest.mark.parametrize("method", ["hillis_steele", "blelloch"])
@pytest.mark.parametrize("T", [1, 2, 3, 7, 16, 33, 100, 1024])
def test_tree_schedule_is_the_library_scan(method, T):
    """The drawn schedule has the work and depth counted in the library's own scan, and run on
    random coefficients it computes the loop's h."""
    from lstm_lib.course.widgets import scan as W

    levels = W.combine_schedule(method, T)
    assert (sum(map(len, levels)), len(levels)) == W.count_combines(method, T)
    for level in levels:  # within a level no position is written twice
        dst = [d for _, d in level]
        assert len(set(dst)) == len(dst) and all(s < d for s, d in level)
    rng = np.random.default_rng(T)
    a, b = rng.uniform(0.1, 1, T), rng.standard_normal(T)
    np.testing.assert_allclose(W.run_schedule(levels, a, b), S.scan_loop(a, b)[0], rtol=1e-12, atol=1e-14)
    assert W.rounds_on(levels, 1) == sum(map(len, levels)) and W.rounds_on(levels, 10 ** 6) == len(levels)


def test_tree_widget_functions():
    from lstm_lib.course.widgets import scan as W

    assert W.count_combines("hillis_steele", 64) == (321, 6)  # sum over d = 1..32 of (64 - d)
    assert W.count_combines("blelloch", 64) == (120, 11)
    text = W.tree_summary(16, "blelloch", 2)
    assert "work <b>26</b>" in text and "depth <b>7</b>" in text and "<b>9</b> rounds" in text
    assert W.tree_summary(16, "hillis_steele", 10) != W.tree_summary(16, "hillis_steele", 0)
    with pytest.raises(ValueError, match="method must be one of"):
        W.combine_schedule("loop", 8)


@pytest.mark.parametrize("make", ["speed_widget", "gate_widget", "tree_widget"])
def test_widgets_react(make, monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    from lstm_lib.course.widgets import scan as W

    monkeypatch.setattr(W, "plot_speed", tiny_figure)
    monkeypatch.setattr(W, "plot_gate", tiny_figure)
    monkeypatch.setattr(W, "plot_tree", tiny_figure)
    box = getattr(W, make)()
    first = sliders_of(box)[0]
    before = readout_of(box)
    first.value = first.max
    assert readout_of(box) != before


# --- the studies --------------------------------------------------------------------------------

def test_parity_batch_and_models():
    from lstm_lib.course import state_tracking as st

    x, y = st.parity_batch(5, 12, np.random.default_rng(0))
    assert x.shape == (5, 12, 1) and y.shape == (5, 12)
    np.testing.assert_array_equal(y, np.cumsum(x[..., 0], axis=1) % 2)
    rng = np.random.default_rng(0)
    assert len(st.parity_model("minGRU x3", 4, rng).layers) == 4
    # the stored study trained the paper's log-space variant: that stays the default here
    assert all(layer.log_space for layer in st.parity_model("minLSTM x3", 4, rng).layers[:3])
    assert not st.parity_model("minGRU", 4, rng, log_space=False).layers[0].log_space
    assert st.adding_model_of("minGRU", 4, rng).layers[0].log_space
    assert st.parity_model("LSTM", 4, rng).forward(x).shape == (5, 12, 2)
    assert st.adding_model_of("minLSTM", 4, rng).forward(np.zeros((3, 7, 2), np.float32)).shape == (3, 1)
    with pytest.raises(ValueError, match="kind must be one of"):
        st.parity_model("GRU", 4, rng)


def test_train_parity_short_run_learns_something():
    from lstm_lib.course.state_tracking import train_parity

    _, r = train_parity("LSTM", 8, 4, 200, lr=1e-2, log_every=50, test_length=8, n_test=200)
    assert len(r["train_loss"]) == 4 and len(r["accuracy"]) == 8
    assert r["train_loss"][-1] < r["train_loss"][0]
    assert r["accuracy"][0] == 1.0  # position 1: the parity is the bit itself


def test_stored_state_tracking_results():
    from lstm_lib.course.results import load_result

    study = load_result("state_tracking.json")
    seeds = study["settings"]["parity"]["seeds"]
    assert len(seeds) >= 3 and len(study["settings"]["adding"]["seeds"]) >= 3
    kinds = {r["kind"] for r in study["parity"]}
    assert {"LSTM", "minGRU", "minLSTM"} <= kinds
    for r in study["parity"]:
        assert len(r["accuracy"]) == study["settings"]["parity"]["test_length"]


def test_stored_scan_speed_says_where_and_how():
    """The stored speed table names its machine, BLAS and clock, and keeps every round."""
    from lstm_lib.course.results import load_result
    from lstm_lib.course.scan_speed import VARIANTS

    study = load_result("scan_speed.json")
    cfg = study["settings"]
    assert cfg["clock"] == "cpu" and cfg["threads"] == 1 and cfg["rounds"] >= 5
    assert cfg["cpu"] and cfg["cores"] and cfg["numpy"] and cfg["blas"]["architecture"]
    assert len(cfg["load_before"]) == len(cfg["load_after"]) == 3
    sizes = {(r["batch"], r["hidden"]) for r in study["runs"]}
    assert sizes == {(1, 16), (8, 64)}
    assert sorted(r["variant"] for r in study["runs"]) == sorted(2 * list(VARIANTS))
    for r in study["runs"]:
        assert [row["T"] for row in r["rows"]] == cfg["lengths"]
        for row in r["rows"]:
            for p in ("forward", "train"):
                assert len(row[f"{p}_rounds"]) == cfg["rounds"]
                assert row[f"{p}_s"] == np.median(row[f"{p}_rounds"]) > 0


def test_scan_speed_steps_and_sides():
    from lstm_lib.course import scan_speed as ss

    assert [ss.python_steps("hillis_steele", T)["forward"] for T in (64, 100)] == [6, 7]
    assert ss.python_steps("log", 64) == {"forward": 2, "backward": 4}  # two signed halves back
    assert ss.python_steps("LSTM", 10) == {"forward": 10, "backward": 10}
    with pytest.raises(ValueError, match="variant must be one of"):
        ss.make_layer("gpu", 4, 4)
    with pytest.raises(ValueError, match="pass_ must be one of"):
        ss.step("loop", "backward", 1, 8, 4)
    assert all(ss.make_layer(v, 2, 2).log_space for v in ss.VARIANTS if v != "LSTM")  # one function
    train = ss.step("blelloch", "train", 2, 8, 4)
    assert train().shape == (2, 8, 4)  # forward + backward: dL/dx


def test_scan_speed_measures_each_variant_in_its_own_process():
    from lstm_lib.course.scan_speed import measure

    runs = measure(["loop", "blelloch"], [16, 32], 1, 4, rounds=2, seconds=0.001)
    assert [r["variant"] for r in runs] == ["loop", "blelloch"]
    for r in runs:
        assert [row["T"] for row in r["rows"]] == [16, 32]
        for row in r["rows"]:
            assert len(row["forward_rounds"]) == len(row["train_rounds"]) == 2
            assert row["forward_s"] == np.median(row["forward_rounds"]) > 0
    assert [row["steps"]["forward"] for row in runs[1]["rows"]] == [8, 10]


def test_folded_solutions_in_the_chapter_pass_their_checkers():
    """The solutions a learner unfolds in notebooks/15_after_the_lstm.ipynb are right."""
    import json
    import pathlib
    import re

    path = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "15_after_the_lstm.ipynb"
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")
    blocks = re.findall(r"<summary>Solution</summary>\s*```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 3
    namespace = {"np": np, "S": S}
    for block in blocks:
        exec(block, namespace)  # noqa: S102 - the chapter's own folded solution
    assert ch15.check_log_combine.verdict(namespace["log_combine"])[0]
    assert ch15.check_recurrence_backward.verdict(namespace["recurrence_backward"])[0]
    assert ch15.check_parity_coefficients.verdict(namespace["parity_coefficients"])[0]


def test_chapter_is_listed():
    assert ("15_after_the_lstm", "After the LSTM: gated linear recurrences") in CHAPTERS
