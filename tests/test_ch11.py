"""Chapter 11: the character language model (corpus, baselines, models, sampling, checkers)."""
import numpy as np
import pytest

import lstm_lib as L
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
