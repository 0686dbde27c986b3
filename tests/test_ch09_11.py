"""Tests for the library parts of chapters 09-11: the GRU widget and checks, the adding
problem, the stacked LSTM and the character language model, the corpus, perplexity and
sampling."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.activations import sigmoid
from lstm_lib.cells import gru_step
from lstm_lib.course.exercises import ch09
from lstm_lib.course.widgets import gru as gru_widget
from lstm_lib.datasets import adding_problem

# --- chapter 09 ----------------------------------------------------------------------------


def test_update_gate_trace_decays_like_z_to_the_k():
    for z_bias in (0.0, 3.0, 6.0):
        tr = gru_widget.update_gate_trace(z_bias, steps=40, pulse_at=5)
        assert tr["h"][:5].max() == 0  # nothing before the pulse
        assert tr["h"][5] > 0.97  # the pulse is written
        k = np.arange(35)
        np.testing.assert_allclose(tr["survival"][5:], sigmoid(z_bias) ** k, rtol=1e-10)
        assert np.isnan(tr["survival"][:5]).all()


def test_half_life_and_summary():
    assert gru_widget.half_life(0.0) == pytest.approx(1.0)
    z = sigmoid(3.0)
    assert z ** gru_widget.half_life(3.0) == pytest.approx(0.5)
    text = gru_widget.update_gate_summary(3.0, steps=60)
    assert "0.953" in text and "half-life 14.3" in text
    with pytest.raises(ValueError):
        gru_widget.update_gate_trace(1.0, steps=10, pulse_at=12)


def test_update_gate_plot_draws():
    import matplotlib

    matplotlib.use("Agg")
    fig = gru_widget.plot_update_gate(2.0, 30)
    assert len(fig.axes) == 2


def test_check_gru_step_accepts_right_and_names_mistakes():
    p = ch09.exercise_gru_inputs()
    h, _ = gru_step(**p)
    assert ch09.check_gru_step.verdict(h)[0]
    assert not ch09.check_gru_step.verdict(None)[0]
    messages = {}
    for wrong, expected in ch09._variants(**p):
        ok, msg = ch09.check_gru_step.verdict(wrong)
        assert not ok and msg == expected
        messages[expected] = msg
    assert any("swapped" in m for m in messages) and any("Cho" in m for m in messages)
    ok, msg = ch09.check_gru_step.verdict(h[:, :3])
    assert not ok and "shape" in msg
    ok, msg = ch09.check_gru_step.verdict(h + 0.01)
    assert not ok and "off by" in msg


def test_check_gru_param_count():
    import torch

    right = sum(p.numel() for p in torch.nn.GRU(10, 20).parameters())
    assert ch09.check_gru_param_count.verdict(right)[0]
    ok, msg = ch09.check_gru_param_count.verdict(4 * 20 * 32)
    assert not ok and "LSTM" in msg
    ok, msg = ch09.check_gru_param_count.verdict(3 * 20 * 30)
    assert not ok and "biases are missing" in msg
    ok, msg = ch09.check_gru_param_count.verdict(L.GRU(10, 20).num_params())
    assert not ok and "lstm_lib" in msg
    ok, msg = ch09.check_gru_param_count.verdict(12.5)
    assert not ok and "whole number" in msg


def test_check_half_life():
    assert ch09.check_half_life.verdict(np.log(0.5) / np.log(0.95))[0]
    ok, msg = ch09.check_half_life.verdict(np.log(0.5) / np.log(0.05))
    assert not ok and "1 - z" in msg
    ok, msg = ch09.check_half_life.verdict(10.0)
    assert not ok and "geometric" in msg


# --- chapter 10 ----------------------------------------------------------------------------


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


# --- chapter 11 ----------------------------------------------------------------------------

from lstm_lib import text as tx
from lstm_lib.models import CharLM, StackedLSTM


def test_corpus_loader_reads_local_files_and_never_downloads(monkeypatch):
    import socket
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the corpus loader tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    c = tx.load_stdlib_corpus()
    assert c.sources == [m for m, _ in tx.stdlib_sources()]
    assert len(c.sources) >= 15
    assert "def " in c.text and "import " in c.text
    # deterministic, and a fixed split: train is the first 90%
    c2 = tx.load_stdlib_corpus()
    assert c2.text == c.text
    assert c.train_text + c.val_text == c.text
    assert len(c.train_text) == int(0.9 * len(c.text))


def test_corpus_vocabulary_from_training_part_only():
    c = tx.CharCorpus("aabbcab" * 10 + "abz", val_fraction=0.1)
    assert "z" not in c.chars[:-1] and c.chars[-1] == tx.UNKNOWN
    assert c.val_ids[-1] == c.vocab_size - 1  # the unseen 'z' maps to the unknown id
    assert c.decode(c.encode("abc")) == "abc"
    with pytest.raises(ValueError):
        tx.CharCorpus("abc", val_fraction=1.5)


def test_batchify_shifts_by_one():
    X, Y = tx.batchify(np.arange(101), 4)
    assert X.shape == (4, 25) == Y.shape
    assert (Y == X + 1).all()
    assert X[1, 0] == 25
    with pytest.raises(ValueError):
        tx.batchify(np.arange(3), 4)


def test_perplexity_and_bits_against_a_hand_computed_case():
    # probabilities 1/2, 1/4, 1/8, 1/2 for the true characters: NLL = 7/4 ln 2
    nll = -np.mean(np.log([0.5, 0.25, 0.125, 0.5]))
    assert tx.bits_per_char(nll) == pytest.approx(1.75)
    assert tx.perplexity(nll) == pytest.approx(2 ** 1.75)
    # a uniform model over V characters has perplexity V
    assert tx.perplexity(np.log(7)) == pytest.approx(7)


def test_unigram_and_bigram_baselines_by_hand():
    ids = np.array([0, 1, 0, 1, 0, 2])
    uni = tx.unigram_probs(ids, 3, alpha=0)
    np.testing.assert_allclose(uni, [3 / 6, 2 / 6, 1 / 6])
    assert tx.unigram_nll(uni, [0, 2]) == pytest.approx(-(np.log(0.5) + np.log(1 / 6)) / 2)
    bi = tx.bigram_probs(ids, 3, alpha=0.0 + 1e-12)
    # after 0 comes 1 twice and 2 once; after 1 always 0
    np.testing.assert_allclose(bi[0], [0, 2 / 3, 1 / 3], atol=1e-9)
    np.testing.assert_allclose(bi[1], [1, 0, 0], atol=1e-9)
    assert tx.bigram_nll(bi, [0, 1, 0]) == pytest.approx(-(np.log(2 / 3) + np.log(1)) / 2)
    smoothed = tx.bigram_probs(ids, 3, alpha=1.0)
    np.testing.assert_allclose(smoothed.sum(axis=1), 1)
    assert (smoothed > 0).all()


def test_sampling_at_temperature_zero_is_argmax():
    rng = np.random.default_rng(0)
    for _ in range(20):
        logits = rng.standard_normal(30)
        assert tx.sample(logits, 0.0) == np.argmax(logits)
        assert tx.sample(logits, 1e-6, rng=rng) == np.argmax(logits)
        p = tx.temperature_probs(logits, 0.0)
        assert p.sum() == 1 and p[np.argmax(logits)] == 1
        np.testing.assert_allclose(tx.temperature_probs(logits, 1e-6), p, atol=1e-12)


def test_temperature_sharpens_and_flattens():
    logits = np.array([2.0, 1.0, 0.0])
    p1 = tx.temperature_probs(logits, 1.0)
    np.testing.assert_allclose(p1, np.exp(logits) / np.exp(logits).sum())
    assert tx.temperature_probs(logits, 0.5)[0] > p1[0] > tx.temperature_probs(logits, 2.0)[0]
    np.testing.assert_allclose(tx.temperature_probs(logits, 1e6), 1 / 3, atol=1e-5)
    counts = np.bincount([tx.sample(logits, 1.0, rng=np.random.default_rng(s)) for s in range(3000)],
                         minlength=3)
    np.testing.assert_allclose(counts / 3000, p1, atol=0.03)
    with pytest.raises(ValueError):
        tx.temperature_probs(logits, -1)
    with pytest.raises(ValueError):
        tx.sample(np.zeros((2, 3)), 1.0)


def test_stacked_lstm_gradient_check():
    stack = StackedLSTM(3, 4, num_layers=3, dtype=np.float64, rng=np.random.default_rng(0))
    # eps 1e-4: smaller steps make the finite differences themselves noisy at the 1e-6 level here
    report = L.gradient_check(stack, np.random.default_rng(1).standard_normal((2, 5, 3)), eps=1e-4)
    assert report.passed, report
    assert set(stack.params) == {f"lstm{k}.{p}" for k in range(3) for p in ("W_x", "W_h", "b")}


def test_stacked_lstm_equals_layers_by_hand_and_dropout_only_in_training():
    rng = np.random.default_rng(0)
    stack = StackedLSTM(3, 4, num_layers=2, dropout=0.5, rng=rng)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    a, b = stack.lstms
    stack.eval()
    np.testing.assert_allclose(stack.forward(x), b.forward(a.forward(x)), rtol=1e-6)
    stack.train()
    assert not np.allclose(stack.forward(x), b.forward(a.forward(x)))  # dropout between layers
    assert len(stack.state) == 2


def _numeric_check(model, ids, targets):
    ce = L.SoftmaxCrossEntropy()

    def loss():
        return ce.forward(model.forward(ids), targets)

    loss()
    model.backward(ce.backward())
    analytic = {k: g.copy() for k, g in model.grads.items()}
    from lstm_lib.gradcheck import numerical_gradient, relative_error

    return {k: relative_error(analytic[k], numerical_gradient(loss, p, eps=1e-4))
            for k, p in model.params.items()}


@pytest.mark.parametrize("tie", [False, True])
def test_char_lm_gradient_check(tie):
    rng = np.random.default_rng(0)
    model = CharLM(6, 4, 4, num_layers=2, tie_weights=tie, dtype=np.float64, rng=rng)
    ids = rng.integers(0, 6, (2, 5))
    targets = rng.integers(0, 6, (2, 5))
    errors = _numeric_check(model, ids, targets)
    assert max(errors.values()) < 1e-5, errors
    assert ("out.W" in model.params) != tie


def test_weight_tying_shares_one_matrix_and_needs_matching_sizes():
    tied = CharLM(10, 8, 8, tie_weights=True)
    untied = CharLM(10, 8, 8)
    assert untied.num_params() - tied.num_params() == 8 * 10
    W = tied.params["embed.W"]
    W[0, 0] += 1.0  # the output layer sees the change: it is the same array
    assert tied.parts["out"].embedding.params["W"] is W
    with pytest.raises(ValueError, match="proj_size"):
        CharLM(10, 8, 16, tie_weights=True)
    proj = CharLM(10, 8, 16, tie_weights=True, proj_size=8, dtype=np.float64,
                  rng=np.random.default_rng(0))
    ids = np.random.default_rng(1).integers(0, 10, (2, 4))
    errors = _numeric_check(proj, ids, np.random.default_rng(2).integers(0, 10, (2, 4)))
    assert max(errors.values()) < 1e-5, errors


def test_char_lm_trains_with_fit_and_generates():
    c = tx.CharCorpus("abcabcabcabd" * 60, val_fraction=0.1)
    X, Y = tx.batchify(c.train_ids, 4)
    model = CharLM(c.vocab_size, 8, 16, num_layers=2, dropout=0.1, rng=np.random.default_rng(0))
    hist = L.fit(model, L.SoftmaxCrossEntropy(), L.Adam(model, lr=3e-2), X, Y, epochs=6, bptt=16,
                 clip=1.0, progress=False)
    assert hist.epoch_loss[-1] < 0.5 * hist.epoch_loss[0]
    out = model.generate(c.encode("abc"), 12, temperature=0.0)
    assert out.shape == (12,) and c.decode(out).startswith("abc")
    assert model.training and not model.rnn.lstms[0].stateful  # mode and flags restored


def test_sampling_widget_functions():
    from lstm_lib.course.widgets import sampling

    logits = np.array([3.0, 1.0, 0.0, -1.0])
    chars = ["a", " ", "\n", "b"]
    labels, p = sampling.top_choices(logits, chars, 1.0, k=3)
    assert labels == ["a", "␣", "\\n"] and p[0] > p[1] > p[2]
    assert sampling.entropy_bits([1, 0, 0]) == 0
    assert sampling.entropy_bits([0.5, 0.5]) == pytest.approx(1)
    assert sampling.entropy_bits(tx.temperature_probs(logits, 2.0)) > sampling.entropy_bits(
        tx.temperature_probs(logits, 0.5))
    text = sampling.temperature_summary(logits, chars, 0.0, sample_text="<x>")
    assert "100.0%" in text and "&lt;x&gt;" in text
    import matplotlib

    matplotlib.use("Agg")
    assert len(sampling.plot_temperature(logits, chars, 0.5).axes) == 1


def test_check_bpc_perplexity():
    from lstm_lib.course.exercises import ch11

    p = ch11.TRUE_NEXT_PROBS
    nll = -np.mean(np.log(p))
    assert ch11.check_bpc_perplexity.verdict((nll / np.log(2), np.exp(nll)))[0]
    ok, msg = ch11.check_bpc_perplexity.verdict((nll, np.exp(nll)))
    assert not ok and "nats" in msg
    ok, msg = ch11.check_bpc_perplexity.verdict((-np.log2(p.mean()), np.exp(nll)))
    assert not ok and "mean of the logs" in msg
    ok, msg = ch11.check_bpc_perplexity.verdict((nll / np.log(2), 1 / p.mean()))
    assert not ok and "geometric" in msg
    ok, msg = ch11.check_bpc_perplexity.verdict(3.0)
    assert not ok and "pair" in msg


def test_check_temperature():
    from lstm_lib.course.exercises import ch11

    assert ch11.check_temperature.verdict(tx.temperature_probs)[0]

    def multiplies(z, t):
        return tx.temperature_probs(z * t, 1.0) if t else tx.temperature_probs(z, 0)

    ok, msg = ch11.check_temperature.verdict(multiplies)
    assert not ok and "divide" in msg

    def no_zero_case(z, t):
        e = np.exp(z / t)
        return e / e.sum()

    with np.errstate(all="ignore"):
        ok, msg = ch11.check_temperature.verdict(no_zero_case)
    assert not ok and "temperature 0" in msg

    def unnormalised(z, t):
        return np.exp(z / t) if t else tx.temperature_probs(z, 0)

    ok, msg = ch11.check_temperature.verdict(unnormalised)
    assert not ok and "sum to" in msg
