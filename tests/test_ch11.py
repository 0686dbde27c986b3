"""Chapter 11: the character language model (corpus, baselines, models, sampling, checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import text as tx
from lstm_lib.char_lm import CharLM
from lstm_lib.models import StackedLSTM


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
    fig = sampling.plot_temperatures(logits, chars, (0.5, 1.0, 2.0), k=3)
    bars = fig.axes[0].containers  # one group of bars per temperature, different heights
    assert len(bars) == 3 and [len(b) for b in bars] == [3, 3, 3]
    heights = [[r.get_height() for r in b] for b in bars]
    assert heights[0][0] > heights[1][0] > heights[2][0]  # the likeliest: highest when coldest
    assert all("entropy" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_pipeline_drawing_names_every_part():
    import matplotlib

    matplotlib.use("Agg")
    from lstm_lib.course.char_lm_drawing import BOXES, draw_pipeline
    texts = {t.get_text() for t in draw_pipeline().axes[0].texts}
    assert {label for label, _, _ in BOXES} <= texts
    assert any("tying" in t for t in texts) and any("carried" in t for t in texts)


def test_check_bpc_perplexity():
    from lstm_lib.course.exercises import ch11

    n, b = (np.array(v, float) for v in zip(*ch11.TWO_TEXTS.values()))
    right = (n * b).sum() / n.sum()
    assert ch11.check_bpc_perplexity.verdict((right, 2 ** right))[0]
    for wrong, words in [((b.mean(), 2 ** b.mean()), "plain mean"),
                         (((n * b).sum(), 1.0), "total number of bits"),
                         ((right * np.log(2), np.exp(right * np.log(2))), "nats"),
                         ((right, np.exp(right)), "mixed the two"),
                         ((right, np.mean(2 ** b)), "do not average"),
                         ((right, (n * 2 ** b).sum() / n.sum()), "do not average"),
                         ((right, 2 ** right + 0.1), "is off"), (3.0, "pair")]:
        ok, msg = ch11.check_bpc_perplexity.verdict(wrong)
        assert not ok and words in msg, (wrong, msg)


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


# --- exercises 3 and 4: the model and the sampler, built by the learner -------------------------

class _Wired:
    """Exercise 3's solution, with switches that plant the typical mistakes."""

    mistake = None

    def __init__(self, vocab_size, embed_dim, hidden_size, rng):
        self.embed = L.Embedding(vocab_size, embed_dim, rng=rng)
        self.lstm = L.LSTM(embed_dim, hidden_size, rng=rng,
                           stateful=self.mistake == "stateful")
        self.out = L.Linear(hidden_size, vocab_size, rng=rng)
        self.loss_fn = L.SoftmaxCrossEntropy()

    def loss(self, ids, targets):
        logits = self.out.forward(self.lstm.forward(self.embed.forward(ids)))
        if self.mistake == "softmax":
            logits = L.softmax(logits)
        if self.mistake == "inputs":
            targets = ids
        if self.mistake == "last":
            return self.loss_fn.forward(logits[:, -1], targets[:, -1])
        return self.loss_fn.forward(logits, targets)

    def backward(self):
        d = self.loss_fn.backward()
        if self.mistake == "scaled":
            d = d * len(d)
        dx = self.lstm.backward(self.out.backward(d))
        if self.mistake != "no embed grad":
            self.embed.backward(dx)


def _wired(mistake):
    return type("Wired", (_Wired,), {"mistake": mistake})


@pytest.mark.parametrize("mistake, words", [
    ("softmax", "raw scores"), ("inputs", "against its inputs"), ("last", "every step"),
    ("stateful", "carried its state"), ("no embed grad", "embed got no gradient"),
    ("scaled", "times the right ones")])
def test_check_char_lm_names_each_mistake(mistake, words):
    from lstm_lib.course.exercises import ch11

    assert ch11.check_char_lm.verdict(_wired(None))[0]
    ok, msg = ch11.check_char_lm.verdict(_wired(mistake))
    assert not ok and words in msg, msg


def test_check_char_lm_reports_a_crash_and_a_non_class():
    from lstm_lib.course.exercises import ch11

    class SkipsLSTM(_Wired):
        def loss(self, ids, targets):
            return self.loss_fn.forward(self.out.forward(self.embed.forward(ids)), targets)

    ok, msg = ch11.check_char_lm.verdict(SkipsLSTM)
    assert not ok and "raised ValueError" in msg and "Linear expects" in msg
    ok, msg = ch11.check_char_lm.verdict(_wired(None)(11, 5, 7, np.random.default_rng(0)))
    assert not ok and "class itself" in msg


def _sampler(mistake=None):
    def sample_text(model, prompt_ids, n, temperature, rng):
        if mistake != "train mode":
            model.eval()
        model.stateful = mistake != "no state"
        model.reset_state()
        logits = model.forward(np.asarray(prompt_ids)[None])[0, 0 if mistake == "first step" else -1]
        out = []
        for _ in range(n):
            nxt = tx.sample(logits, 1.0 if mistake == "ignored" else temperature, rng)
            out.append(nxt)
            fed = list(prompt_ids) + [nxt] if mistake == "prompt again" else [nxt]
            logits = model.forward(np.asarray(fed)[None])[0, -1]
        return list(prompt_ids) + out if mistake == "with prompt" else np.array(out)
    return sample_text


def _regrow(model, prompt_ids, n, temperature, rng):
    """Also right (and slow): re-read the whole text from a zero state at every step."""
    model.eval()
    ids = list(prompt_ids)
    for _ in range(n):
        model.reset_state()
        ids.append(tx.sample(model.forward(np.asarray(ids)[None])[0, -1], temperature, rng))
    return ids[len(prompt_ids):]


@pytest.mark.parametrize("mistake, words", [
    ("no state", "state is not carried"), ("first step", "FIRST"), ("prompt again", "fed again"),
    ("ignored", "temperature 1"), ("train mode", "dropout"), ("with prompt", "without the prompt")])
def test_check_sampler_names_each_mistake(mistake, words):
    from lstm_lib.course.exercises import ch11

    assert ch11.check_sampler.verdict(_sampler())[0]
    assert ch11.check_sampler.verdict(_regrow)[0]
    ok, msg = ch11.check_sampler.verdict(_sampler(mistake))
    assert not ok and words in msg, msg


def test_check_sampler_twice_applied_temperature_and_other_errors():
    from lstm_lib.course.exercises import ch11

    def twice(model, prompt_ids, n, temperature, rng):
        model.eval()
        model.stateful = True
        model.reset_state()
        logits = model.forward(np.asarray(prompt_ids)[None])[0, -1]
        out = []
        for _ in range(n):
            out.append(tx.sample(logits / temperature, temperature, rng))
            logits = model.forward(np.array([[out[-1]]]))[0, -1]
        return out

    ok, msg = ch11.check_sampler.verdict(twice)
    assert not ok and "twice" in msg
    ok, msg = ch11.check_sampler.verdict(lambda *a: [0] * 30)
    assert not ok and "differ from CharLM.generate" in msg
    ok, msg = ch11.check_sampler.verdict(lambda *a: [0] * 3)
    assert not ok and "expected 30" in msg


# --- the test split, scoring a text, saving and loading -----------------------------------------

def test_corpus_has_a_held_out_test_text_from_other_modules():
    c = tx.load_stdlib_corpus()
    assert c.test_sources == list(tx.TEST_MODULES)
    assert not set(c.test_sources) & set(c.sources)
    assert len(c.test_ids) == len(c.test_text) > 20_000
    assert c.decode(c.test_ids[:300]) == c.test_text[:300]  # no unknown characters there
    assert tx.CharCorpus("abcabc").test_ids.size == 0  # no test text: an empty array


def test_char_lm_nll_scores_every_character_once_given_its_past():
    c = tx.CharCorpus("the cat sat on the mat. " * 20)
    model = CharLM(c.vocab_size, 6, 8, num_layers=2, dropout=0.3, rng=np.random.default_rng(0))
    ids = c.train_ids[:200]
    one = model.nll(ids, streams=1)
    by_hand = L.SoftmaxCrossEntropy().forward(model.eval().forward(ids[None, :-1]), ids[None, 1:])
    model.train()
    assert one == pytest.approx(by_hand, rel=1e-5)  # one stream: the plain loss over the text
    assert model.nll(ids, streams=7, warmup=500, chunk=13) == pytest.approx(one, rel=1e-5)
    assert model.nll(ids, streams=7, warmup=2) != pytest.approx(one, rel=1e-7)  # less context
    assert model.training and not model.stateful  # mode and flags restored
    with pytest.raises(ValueError):
        model.nll(ids[:1])


def test_char_lm_save_and_load_round_trip(tmp_path):
    model = CharLM(9, 4, 6, num_layers=2, tie_weights=False, output_init="embedding",
                   rng=np.random.default_rng(0))
    model.save(tmp_path / "m.npz", chars=list("abcdefgh") + [tx.UNKNOWN])
    back = CharLM.load(tmp_path / "m.npz")
    assert back.config == model.config and back.info["chars"][0] == "a"
    for k, p in model.params.items():
        np.testing.assert_array_equal(back.params[k], p)
    ids = np.arange(9)[None]
    np.testing.assert_array_equal(back.eval().forward(ids), model.eval().forward(ids))
    other = CharLM(9, 4, 6, num_layers=1)
    other.save(tmp_path / "other.npz")
    with np.load(tmp_path / "m.npz") as f:  # a file whose arrays do not fit its configuration
        arrays = dict(f)
    arrays["meta"] = np.load(tmp_path / "other.npz")["meta"]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="do not match"):
        CharLM.load(tmp_path / "bad.npz")


def test_output_init_puts_an_untied_output_layer_at_the_tied_scale():
    kw = {"vocab_size": 50, "embed_dim": 64, "hidden_size": 64, "rng": np.random.default_rng(0)}
    assert CharLM(**kw, output_init="embedding").params["out.W"].std() == pytest.approx(1, rel=0.05)
    assert CharLM(**kw).params["out.W"].std() < 0.1  # torch.nn.Linear's U(+-1/8)
    with pytest.raises(ValueError, match="output_init"):
        CharLM(**kw, output_init="zeros")


def test_named_sequential_models_share_sequentials_behaviour():
    model = CharLM(10, 4, 6, num_layers=2, dropout=0.5, rng=np.random.default_rng(0))
    assert isinstance(model, L.Sequential) and isinstance(model.rnn, L.Sequential)
    model.eval()
    assert not any(l.training for l in model.rnn.layers) and not model.parts["drop"].training
    model.astype(np.float64)
    assert all(p.dtype == np.float64 for p in model.params.values())
    model.stateful = True
    assert all(l.stateful for l in model.rnn.lstms)
    assert set(model.params) == set(model.grads)
    assert "rnn.lstm1.W_h" in model.params and "embed.W" in model.params


# --- watching cells -----------------------------------------------------------------------------

def test_record_reads_named_gates_and_matches_the_fast_layers():
    from lstm_lib.course import cell_watch

    model = CharLM(12, 5, 7, num_layers=2, rng=np.random.default_rng(0))
    ids = np.random.default_rng(1).integers(0, 12, 40)
    layers = cell_watch.record(model, ids)
    assert len(layers) == 2 and layers[0]["i"].shape == (40, 7)
    top = model.rnn.eval().forward(model.parts["embed"].forward(ids[None]))[0]
    np.testing.assert_allclose(layers[1]["h"], top, atol=1e-5)
    rec = layers[0]
    c_prev = np.vstack([np.zeros((1, 7)), rec["c"][:-1]])
    np.testing.assert_allclose(rec["c"], rec["f"] * c_prev + rec["i"] * rec["g"], atol=1e-12)
    assert all(((rec[g] > 0) & (rec[g] < 1)).all() for g in ("i", "f", "o"))


def test_saturation_counts_shut_and_open_steps_per_unit():
    from lstm_lib.course import cell_watch

    gate = np.array([[0.05, 0.5], [0.95, 0.5], [0.05, 0.99], [0.5, 0.5]])  # (time 4, units 2)
    rec = {"i": gate, "f": 1 - gate, "o": np.full((4, 2), 0.5)}
    sat = cell_watch.saturation([rec])
    np.testing.assert_allclose(sat[(1, "i")][0], [0.5, 0])  # shut
    np.testing.assert_allclose(sat[(1, "i")][1], [0.25, 0.25])  # open
    np.testing.assert_allclose(sat[(1, "f")][0], [0.25, 0.25])
    assert set(sat) == {(1, "i"), (1, "f"), (1, "o")}


def test_python_features_by_hand():
    from lstm_lib.course import cell_watch

    src = 'def f(a, b="#("):\n    """x\n  y"""  # c(\n    return [a]\n'
    f = cell_watch.python_features(src)
    assert all(v.shape == (len(src),) for v in f.values())

    def at(name, i):
        return f[name][i]

    q = src.index('"#(')
    assert at("in a string", q) == 1 and at("in a string", q + 2) == 1  # '#' and '(' in a string
    assert at("in a comment", q + 1) == 0 and at("bracket depth", q + 2) == 1  # only the real '('
    assert at("bracket depth", src.index("(")) == 1 and at("bracket depth", src.index(":")) == 0
    doc = src.index('"""x')
    assert at("in a string", src.index("  y")) == 1  # inside the triple-quoted string
    assert at("in a string", doc - 1) == 0
    hash_ = src.index("# c(")
    assert at("in a comment", hash_) == 1 and at("bracket depth", hash_ + 3) == 0
    assert at("indentation", src.index("return")) == 4 and at("indentation", 0) == 0
    assert at("indentation", src.index("  y")) == 2
    assert at("column", src.index("return")) == 4 and at("column", 0) == 0
    assert at("bracket depth", src.index("a]")) == 1 and at("bracket depth", src.index("]")) == 0


def test_correlations_and_best_units_find_a_planted_cell():
    from lstm_lib.course import cell_watch

    rng = np.random.default_rng(0)
    feature = rng.integers(0, 5, 300).astype(float)
    states = rng.standard_normal((300, 6))
    states[:, 4] = -2 * feature + 0.1 * rng.standard_normal(300)
    states[:, 2] = 3.0  # constant: correlation 0, not NaN
    r = cell_watch.correlations(states, feature)
    np.testing.assert_allclose(r[[0, 1, 3, 5]], [np.corrcoef(states[:, u], feature)[0, 1] for u in (0, 1, 3, 5)])
    assert r[2] == 0 and r[4] < -0.99
    other = {"c": rng.standard_normal((300, 6))}
    assert cell_watch.best_units([other, {"c": states}], {"x": feature})["x"][:2] == (2, 4)


def test_cell_text_widget_functions(monkeypatch, tiny_figure, readout_of, sliders_of):
    import matplotlib

    matplotlib.use("Agg")
    from lstm_lib.course.widgets import cell_text

    rows = cell_text.text_grid("abcdef\ngh", 4)
    assert [[k for _, k in r] for r in rows] == [[0, 1, 2, 3], [4, 5, 6], [7, 8]]
    assert [c for c, _ in rows[1]] == [0, 1, 2]
    fig = cell_text.plot_cell_text("ab\ncd", np.array([-1.0, 0.0, 0.5, 1.0, 0.2]), "t", width=4)
    assert len(fig.axes) == 1
    rng = np.random.default_rng(0)
    layers = [{"c": rng.standard_normal((50, 3))}, {"c": rng.standard_normal((50, 3))}]
    feats = {"column": np.arange(50.0) % 7, "in a string": (np.arange(50) % 3 == 0).astype(float)}
    text = cell_text.cell_summary(layers, feats, 2, 1)
    r = np.corrcoef(layers[1]["c"][:, 1], feats["column"])[0, 1]
    assert "layer 2, cell 1" in text and f"{r:+.2f}" in text
    monkeypatch.setattr(cell_text, "plot_cell_text", lambda *args, **kw: tiny_figure())
    box = cell_text.cell_text_widget("x" * 50, layers, feats, layer=1, unit=2, span=20)
    layer, unit, start = sliders_of(box)
    assert (layer.max, unit.max, start.max) == (2, 2, 30)
    layer.value, unit.value = 2, 1
    assert readout_of(box) == text
    sat = {(k, g): (rng.random(3), rng.random(3)) for k in (1, 2) for g in ("i", "f", "o")}
    assert len(cell_text.plot_saturation(sat).axes) == 2
    best = {"column": (1, 0, 0.5), "in a string": (2, 2, -0.1)}
    assert len(cell_text.plot_cell_vs_feature(layers, feats, best).axes) == 2


# --- the study: training recipe, ablation bookkeeping, samples -----------------------------------

def test_train_char_lm_halves_the_rate_stops_and_keeps_the_best_epoch():
    from lstm_lib.course.char_lm_study import train_char_lm

    c = tx.CharCorpus("abcabcabd " * 200, val_fraction=0.1)
    recipe = {"lr": 1e-2, "clip": 1.0, "batch_size": 4, "bptt": 16, "min_gain_bits": 10.0,
              "max_useless_halvings": 2, "seed": 0}
    model, curve = train_char_lm(c, {"embed_dim": 6, "hidden_size": 6, "tie_weights": True},
                                 recipe, max_epochs=5, log=lambda line: None)
    # after the first epoch none can gain 10 bits: each halves the rate, the second such stops
    assert [r["lr"] for r in curve] == [1e-2, 1e-2, 5e-3]
    best = min(r["val_bpc"] for r in curve)
    assert tx.bits_per_char(model.nll(c.val_ids)) == pytest.approx(best, abs=1e-3)


def test_spread_and_separation():
    from lstm_lib.course.char_lm_study import separated, spread_table

    assert spread_table({"a": [1.0, 2.0, 3.0]}) == {"a": (2.0, 1.0, 3.0, 3)}
    assert separated([1.0, 1.1, 1.2], [1.3, 1.4, 1.5])
    assert not separated([1.0, 1.3], [1.2, 1.5])  # overlapping seeds: no claim


def test_python_likeness_by_hand():
    from lstm_lib.course.char_lm_study import python_likeness

    good = "def f(a):\n    return [a]\n"
    m = python_likeness(good, {"def", "f", "a", "return"})
    assert m == {"indent 4": 1.0, "balanced": 1.0, "def lines": 1.0, "known words": 1.0, "parses": True}
    bad = "def g(a:\n   return a]\n"
    m = python_likeness(bad, {"def", "a", "return"})
    assert m["indent 4"] == 0.5 and m["balanced"] == 0.0 and m["def lines"] == 0.0
    assert m["known words"] == pytest.approx(4 / 5) and m["parses"] is False


def test_weight_drop_lstm_drops_recurrent_weights_in_training_only():
    from lstm_lib.models import WeightDropLSTM

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3))
    wd = WeightDropLSTM(3, 4, weight_drop=0.5, dtype=np.float64, rng=np.random.default_rng(1))
    plain = L.LSTM(3, 4, dtype=np.float64, rng=np.random.default_rng(1))
    for k in plain.params:  # same initialisation as the plain layer
        np.testing.assert_array_equal(wd.params[k], plain.params[k])
    np.testing.assert_allclose(wd.eval().forward(x), plain.forward(x))  # evaluation: W_h as it is
    wd.train()
    h = wd.forward(x)
    mask = wd.mask
    assert set(np.unique(mask)) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - 0.5)
    W = plain.params["W_h"].copy()
    plain.params["W_h"] = W * mask  # the same forward as a plain LSTM with the dropped matrix
    np.testing.assert_allclose(h, plain.forward(x), rtol=1e-12)
    dh = rng.standard_normal(h.shape)
    np.testing.assert_allclose(wd.backward(dh), plain.backward(dh), rtol=1e-10)
    np.testing.assert_allclose(wd.grads["W_h"], plain.grads["W_h"] * mask, rtol=1e-10)
    np.testing.assert_array_equal(wd.params["W_h"], W)  # the parameter itself is not dropped
    assert not np.allclose(wd.forward(x), h)  # a new mask for every call in training
    with pytest.raises(ValueError, match="weight_drop"):
        WeightDropLSTM(3, 4, weight_drop=1.0)


def test_weight_drop_gradient_is_the_derivative_for_a_fixed_mask():
    from lstm_lib.models import WeightDropLSTM

    wd = WeightDropLSTM(3, 4, weight_drop=0.3, dtype=np.float64, rng=np.random.default_rng(2))
    fixed = np.random.default_rng(3).random(wd.params["W_h"].shape)

    class SameMask:  # the same mask on every call, so finite differences see one function
        def random(self, shape):
            return fixed

    wd.rng = SameMask()
    report = L.gradient_check(wd, np.random.default_rng(4).standard_normal((2, 5, 3)), eps=1e-5)
    assert report.passed, report
    model = CharLM(8, 4, 4, num_layers=2, weight_drop=0.2, rng=np.random.default_rng(0))
    assert type(model.rnn.lstms[0]).__name__ == "WeightDropLSTM" and model.config["weight_drop"] == 0.2
    assert type(CharLM(8, 4, 4).rnn.lstms[0]) is L.LSTM  # no weight drop: plain layers


# --- what the experiments shipped ---------------------------------------------------------------

def test_shipped_model_loads_from_the_package_and_scores_what_its_record_says():
    from importlib import resources

    from lstm_lib.course.char_lm_study import encode_for, shipped_model
    from lstm_lib.course.results import load_result

    path = resources.files("lstm_lib.course.results") / "char_lm_model.npz"
    assert path.stat().st_size <= 5_000_000
    model = shipped_model()
    run = load_result("char_lm_training.json")
    assert {k: model.config[k] for k in run["config"]} == run["config"]
    assert model.num_params() == run["params"]
    c = tx.load_stdlib_corpus()  # the shipped snapshot: the same text on every Python
    assert model.info["python"] == tx.SNAPSHOT_PYTHON and model.info["corpus_modules"] == c.sources
    assert model.info["chars"] == c.chars
    test = tx.bits_per_char(model.nll(encode_for(model, c.test_text)))
    assert test == pytest.approx(run["test_bpc"], abs=2e-3)
    assert encode_for(model, "\x00def")[0] == len(model.info["chars"]) - 1  # unknown character



def _char_lm_script():
    import importlib.util
    import pathlib

    script = pathlib.Path(__file__).resolve().parent.parent / "experiments" / "char_lm.py"
    spec = importlib.util.spec_from_file_location("char_lm_script", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_training_records_are_consistent_with_the_script():
    """char_lm_training.json (the shipped model) and char_lm_chapter_text.json hold what
    experiments/char_lm.py sets: the configuration and recipe, the extra modules (neither
    training nor test modules of the chapter), the n-gram table of orders 1-7 with the best
    chosen on validation, every round of the cosine with the kept one the best on validation,
    and the margin as the best n-gram's test score minus the LSTM's."""
    from lstm_lib.course.results import load_result

    mod = _char_lm_script()
    rec, third = load_result("char_lm_training.json"), load_result("char_lm_third_run.json")
    small, first = load_result("char_lm_chapter_text.json"), load_result("char_lm_first_run.json")
    assert rec["config"] == mod.CONFIG and third["config"] == mod.SECOND == small["config"]
    assert rec["recipe"] == third["recipe"] == mod.RECIPE and rec["chars"] == third["chars"]
    assert small["recipe"] == mod.CHAPTER_TEXT[1] and small["train_chars"] == rec["chars"]["chapter_train"]
    assert (first["config"], first["recipe"]) == mod.FIRST_RUN
    assert rec["kneser_ney"] == third["kneser_ney"]  # the same text, the same counts
    assert not set(rec["more_training_modules"]) & (set(tx.CORPUS_MODULES) | set(tx.TEST_MODULES))
    assert rec["more_training_modules"] == list(tx.MORE_TRAINING_MODULES)
    kn = rec["kneser_ney"]
    assert sorted(kn, key=int) == [str(n) for n in range(1, 8)]
    assert rec["best_order"] == min(range(1, 8), key=lambda n: kn[str(n)]["val_bpc"])
    assert rec["val_bpc"] == pytest.approx(min(r["val_bpc"] for r in rec["curve"]), abs=1e-4)
    recipe = rec["recipe"]
    assert len(rec["curve"]) == recipe["epochs"] * recipe["evals_per_epoch"]
    assert rec["curve"][0]["lr"] == recipe["lr"] and rec["curve"][-1]["lr"] == pytest.approx(recipe["final_lr"])
    assert rec["margin_over_best_ngram_test"] == pytest.approx(
        kn[str(rec["best_order"])]["test_bpc"] - rec["test_bpc"], abs=1e-4)
    assert rec["chars"]["train"] > 6 * rec["chars"]["chapter_train"] - 100_000


def test_more_training_ids_put_other_modules_before_the_chapters_training_part():
    c = tx.load_stdlib_corpus(max_chars=50_000)
    ids, names = tx.more_training_ids(c, ("types", "numbers"))
    assert names == ["types", "numbers"]
    np.testing.assert_array_equal(ids[-len(c.train_ids):], c.train_ids)
    head = c.decode(ids[:-len(c.train_ids)])
    assert head.startswith(tx.snapshot()["types"][:200])
    assert ids.max() < c.vocab_size  # the chapter's vocabulary, unknown characters included
    with pytest.raises(ValueError, match="already in the corpus"):
        tx.more_training_ids(c, ("types", "textwrap"))  # textwrap is a corpus module
    with pytest.raises(ValueError, match="already in the corpus"):
        tx.more_training_ids(c, ("csv",))  # a test module


def test_train_char_lm_cosine_rounds_follow_the_schedule_and_keep_the_best_round():
    from lstm_lib.course.char_lm_study import cosine_lr, train_char_lm

    c = tx.CharCorpus("abcabcabd " * 200, val_fraction=0.1)
    recipe = {"lr": 1e-2, "final_lr": 1e-4, "schedule": "cosine", "evals_per_epoch": 3, "clip": 1.0,
              "batch_size": 4, "bptt": 16, "seed": 0}
    model, curve = train_char_lm(c, {"embed_dim": 6, "hidden_size": 6, "tie_weights": True},
                                 recipe, max_epochs=2, log=lambda line: None)
    assert [r["round"] for r in curve] == [1, 2, 3, 4, 5, 6]
    assert [r["epoch"] for r in curve] == [1, 1, 1, 2, 2, 2]
    assert [r["lr"] for r in curve] == pytest.approx([cosine_lr(1e-2, 1e-4, k, 6) for k in range(6)], rel=1e-4)
    assert curve[0]["lr"] == pytest.approx(1e-2) and curve[-1]["lr"] == pytest.approx(1e-4)
    assert all(a["lr"] > b["lr"] for a, b in zip(curve, curve[1:]))
    best = min(r["val_bpc"] for r in curve)
    assert tx.bits_per_char(model.nll(c.val_ids)) == pytest.approx(best, abs=1e-3)
    with pytest.raises(ValueError, match="schedule"):
        train_char_lm(c, {"embed_dim": 6, "hidden_size": 6}, {**recipe, "schedule": "linear"}, 1)


def test_ablation_results_hold_three_seeds_of_every_variant():
    from lstm_lib.course.char_lm_study import ABLATIONS
    from lstm_lib.course.results import load_result

    abl = load_result("char_lm_ablations.json")
    assert list(abl["variants"]) == list(ABLATIONS)
    for name, v in abl["variants"].items():
        assert sorted(r["seed"] for r in v["runs"]) == [0, 1, 2], name
        assert all(len(r["curve"]) == abl["epochs"] for r in v["runs"]), name
        assert all(r["val_bpc"] == min(e["val_bpc"] for e in r["curve"]) for r in v["runs"])


def test_folded_solutions_in_the_chapter_pass_their_checkers():
    """The five solutions a learner unfolds in the notebook are accepted by their checkers."""
    import pathlib
    import textwrap

    from lstm_lib.course.exercises import ch11
    from lstm_lib.course.exercises.solutions import folded_solutions

    path = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "11_char_language_model.ipynb"
    bpc, kneser_ney, wiring, temperature, sampler = folded_solutions(path)
    ns = {"np": np, "L": L, "tx": tx, "ch11": ch11, "texts": ch11.TWO_TEXTS}
    exec(bpc, ns)  # noqa: S102 - the chapter's own folded solutions
    assert ch11.check_bpc_perplexity.verdict(ns["answer"])[0]
    exec(kneser_ney, ns)  # noqa: S102
    assert ch11.check_kneser_ney.verdict(ns["kn_bigram"])[0]
    exec(textwrap.dedent(wiring), ns)  # noqa: S102 - the two methods, onto the exercise's skeleton
    wired = type("MyCharLM", (), {"__init__": _Wired.__init__, "mistake": None,
                                  "loss": ns["loss"], "backward": ns["backward"]})
    assert ch11.check_char_lm.verdict(wired)[0]
    exec(temperature, ns)  # noqa: S102
    assert ch11.check_temperature.verdict(ns["apply_temperature"])[0]
    exec(sampler, ns)  # noqa: S102
    assert ch11.check_sampler.verdict(ns["sample_text"])[0]


def test_python_features_read_an_f_string_as_one_string_on_every_python():
    """3.12 tokenizes f-strings into parts and their braces into OP tokens; 3.11 does not."""
    from lstm_lib.course import cell_watch

    text = 'x = f"a{b!r:>{w}}(" + "[" # (\ny = (1,\n     2)\n'
    f = cell_watch.python_features(text)
    bits = {name: "".join(str(int(v)) for v in f[name]) for name in ("in a string", "bracket depth", "in a comment")}
    assert bits["in a string"] == "0000111111111111111000111000000000000000000000"
    assert bits["bracket depth"] == "0000000000000000000000000000000000111111111100"
    assert bits["in a comment"] == "0000000000000000000000000011100000000000000000"


def test_ngram_order_record_recomputes_and_ends_where_validation_stopped_improving():
    """The cheap part of experiments/ngram_order.py: the chapter text's whole search (about 8 s),
    and the 6x text's first orders; the record's searches stopped by patience, not at a cap."""
    from lstm_lib import ngram
    from lstm_lib.course.results import load_result
    rec = load_result("ngram_order.json")
    corpus = tx.load_stdlib_corpus()
    for name in ("chapter_text", "more_text"):
        r = rec[name]
        scores = {int(k): v for k, v in r["val_bpc"].items()}
        best = min(scores, key=scores.get)
        assert r["best"] == best and r["stopped"] == "patience"
        assert max(scores) == best + rec["patience"] < rec["max_order"]
        assert r["chosen"]["val_bpc"] == scores[best]
    found = ngram.search_order(corpus.train_ids, corpus.vocab_size, corpus.val_ids, rec["patience"])
    assert {str(k): round(tx.bits_per_char(v), 4) for k, v in found["scores"].items()} \
        == rec["chapter_text"]["val_bpc"]
    more_ids, _ = tx.more_training_ids(corpus)
    assert len(more_ids) == rec["more_text"]["train_chars"]
    for k, (nll,) in ngram.order_scores(more_ids, corpus.vocab_size, [corpus.val_ids], range(1, 5)):
        assert round(tx.bits_per_char(nll), 4) == rec["more_text"]["val_bpc"][str(k)]
    assert len(corpus.encode(tx.held_out_text())) == rec["held_out_chars"]


def _kn_answer(slip=None):
    from lstm_lib.course.exercises import ch11
    return lambda ids, V, D: ch11.kn_bigram_reference(ids, V, D, slip)


@pytest.mark.parametrize("slip, words", [
    ("raw counts below", "DIFFERENT contexts"),
    ("lower order unsmoothed", "never seen gets probability 0"),
    ("T is a count", "number of DIFFERENT characters seen after h"),
    ("no discount", "nothing is taken off"),
    ("mass dropped", "not given back"),
    ("backing off", "backing off"),
    ("unseen context uniform", "gets the uniform"),
    ("unseen context zero", "gets all zeros"),
])
def test_check_kneser_ney_names_each_planted_slip(slip, words):
    from lstm_lib.course.exercises import ch11
    ok, message = ch11.check_kneser_ney.verdict(_kn_answer(slip))
    assert not ok and words in message, message


def test_check_kneser_ney_accepts_the_model_and_names_shape_and_transpose():
    from lstm_lib.course.exercises import ch11
    from lstm_lib.ngram import KneserNey
    assert ch11.check_kneser_ney.verdict(_kn_answer())[0]
    by_library = lambda ids, V, D: np.array([KneserNey(ids, 2, V, discount=D).probs([h]) for h in range(V)])
    assert ch11.check_kneser_ney.verdict(by_library)[0]
    assert "transposed" in ch11.check_kneser_ney.verdict(lambda i, V, D: _kn_answer()(i, V, D).T)[1]
    assert "shape" in ch11.check_kneser_ney.verdict(lambda i, V, D: _kn_answer()(i, V, D)[:-1])[1]
    assert "ZeroDivisionError" in ch11.check_kneser_ney.verdict(lambda i, V, D: 1 / 0)[1]
    assert "sum to 1" in ch11.check_kneser_ney.verdict(lambda i, V, D: _kn_answer()(i, V, D) * 1.1)[1]
    assert "no answer" in ch11.check_kneser_ney.verdict(None)[1]
    # every planted slip gives another matrix: the checker cannot confuse two of them
    V = len(ch11.KN_ALPHABET)
    ids = np.array([ch11.KN_ALPHABET.index(c) for c in ch11.KN_TEXT])
    mats = [ch11.kn_bigram_reference(ids, V, ch11.KN_DISCOUNT, s) for s in [None, *ch11.KN_SLIPS]]
    assert all(not np.allclose(a, b) for i, a in enumerate(mats) for b in mats[i + 1:])
