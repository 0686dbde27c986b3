"""lstm_lib.ngram: interpolated Kneser-Ney character models (chapter 11's baselines)."""
import numpy as np
import pytest

from lstm_lib import ngram
from lstm_lib.ngram import KneserNey, discount_estimate, ngram_keys, order_scores, search_order


def test_ngram_keys_are_base_v_numbers_and_drop_the_last_character_with_floor_division():
    ids = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(ngram_keys(ids, 2, 3), [2 * 3 + 0, 0 * 3 + 1, 1 * 3 + 2])
    np.testing.assert_array_equal(ngram_keys(ids, 3, 3) // 3, ngram_keys(ids, 2, 3)[:2])
    np.testing.assert_array_equal(ngram_keys(ids, 1, 3), ids)
    assert ngram_keys(ids, 5, 3).size == 0


def test_discount_estimate():
    assert discount_estimate(np.array([1, 1, 1, 2, 5])) == pytest.approx(3 / (3 + 2))
    assert discount_estimate(np.array([2, 3])) == 0.5  # nothing seen once: no estimate


def test_hand_worked_bigram_model():
    """Training text "abab" over {a, b, c} (ids 0, 1, 2), order 2, discount 1/2.

    Bigram counts: ab 2, ba 1. Continuation counts of the unigrams (distinct characters in
    front): a 1 (b), b 1 (a), c 0; total 2, two distinct. So
      P1(a) = P1(b) = (1 - 1/2) / 2 + (1/2 * 2 / 2) * 1/3 = 5/12,   P1(c) = 1/6;
      after a (seen twice, one follower): P(b|a) = (2 - 1/2) / 2 + (1/2 * 1 / 2) P1(b) = 41/48,
                                          P(a|a) = 1/4 * 5/12 = 5/48, P(c|a) = 1/4 * 1/6 = 2/48;
      after b (seen once, one follower):  P(a|b) = 1/2 + 1/2 * 5/12 = 17/24,
                                          P(b|b) = 5/24, P(c|b) = 2/24;
      after c (never seen): P1.
    """
    kn = KneserNey([0, 1, 0, 1], order=2, vocab_size=3, discount=0.5)
    np.testing.assert_allclose(kn.probs([0]), np.array([5, 41, 2]) / 48)
    np.testing.assert_allclose(kn.probs([1]), np.array([17, 5, 2]) / 24)
    np.testing.assert_allclose(kn.probs([2]), np.array([5, 5, 2]) / 12)
    np.testing.assert_allclose(kn.probs([]), np.array([5, 5, 2]) / 12)  # no context yet
    np.testing.assert_allclose(np.exp(kn.log_probs([0, 1, 0, 1])), [41 / 48, 17 / 24, 41 / 48])
    assert kn.nll([0, 1, 2]) == pytest.approx(-(np.log(41 / 48) + np.log(2 / 24)) / 2)


def test_hand_worked_unigram_model_uses_raw_counts():
    # order 1: counts a 2, b 2 (raw, not continuation); P(a) = 1.5/4 + (0.5 * 2/4) / 3 = 11/24
    kn = KneserNey([0, 1, 0, 1], order=1, vocab_size=3, discount=0.5)
    np.testing.assert_allclose(kn.probs([1, 0]), np.array([11, 11, 2]) / 24)


def test_continuation_counts_not_raw_counts_in_the_lower_order():
    """'x' is frequent but always after 'q'; 'y' is rarer but follows many characters. In a
    new context the bigram model should prefer 'y': Kneser-Ney's point."""
    text = "qx" * 20 + "ay by cy dy "
    chars = sorted(set(text))
    ids = [chars.index(c) for c in text]
    kn = KneserNey(ids, order=2, vocab_size=len(chars))
    p = kn.probs([chars.index(" ")])  # ' ' is followed only by... nothing: unseen context
    assert p[chars.index("y")] > p[chars.index("x")]
    assert np.sum(np.array(ids) == chars.index("x")) > np.sum(np.array(ids) == chars.index("y"))


@pytest.mark.parametrize("order", [1, 2, 3, 5, 7, 12, 30])
def test_probabilities_sum_to_one_at_every_context(order):
    rng = np.random.default_rng(order)
    V = 6
    ids = rng.choice(V, size=400, p=[0.4, 0.2, 0.2, 0.1, 0.1, 0.0])  # id 5 never seen
    kn = KneserNey(ids, order, V)
    seen = [ids[s:s + order - 1] for s in range(0, 300, 7)]
    unseen = [rng.integers(0, V, order - 1) for _ in range(20)] + [[5] * (order - 1)]
    short = [ids[:k] for k in range(order)]
    for context in seen + unseen + short:
        p = kn.probs(context)
        assert p.shape == (V,) and (p > 0).all()
        assert p.sum() == pytest.approx(1, abs=1e-12)
    # the vectorised scores are the same numbers as the distributions
    text = rng.integers(0, V, 60)
    expected = [np.log(kn.probs(text[:t])[text[t]]) for t in range(1, 60)]
    np.testing.assert_allclose(kn.log_probs(text), expected, rtol=1e-12)


def test_higher_orders_fit_training_text_better_and_discounts_are_estimated():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 5, 50)
    ids = np.concatenate([base] * 8 + [rng.integers(0, 5, 100)])
    nll = [KneserNey(ids, n, 5).nll(ids) for n in (1, 2, 4)]
    assert nll[0] > nll[1] > nll[2]
    kn = KneserNey(ids, 3, 5)
    assert len(kn.discounts) == 3 and all(0 < d <= 1 for d in kn.discounts)


def test_bad_input():
    with pytest.raises(ValueError, match="order"):
        KneserNey([0, 1, 2], 0, 3)
    with pytest.raises(ValueError, match="too few"):
        KneserNey([0, 1], 3, 3)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        KneserNey([0, 1, 3, 1], 2, 3)
    with pytest.raises(ValueError, match="discount"):
        KneserNey([0, 1, 0, 1], 2, 3, discount=1.5)


def _base_v_reference(ids, order, V, text):
    """The model as it was written with base-V keys (orders with V ** order < 2 ** 62 only):
    raw counts at the top, continuation counts below, each order's n1 / (n1 + 2 n2)."""
    ids, text = np.asarray(ids, np.int64), np.asarray(text, np.int64)
    t = np.arange(1, len(text))
    p = np.full(len(t), 1.0 / V)
    for k in range(1, order + 1):
        if k == order:
            keys, counts = np.unique(ngram_keys(ids, k, V), return_counts=True)
        else:
            keys, counts = np.unique(np.unique(ngram_keys(ids, k + 1, V)) % V ** k, return_counts=True)
        D = discount_estimate(counts)
        contexts, where = np.unique(keys // V, return_inverse=True)
        totals, followers = np.bincount(where, weights=counts.astype(float)), np.bincount(where).astype(float)
        has = t >= k - 1
        grams = np.zeros(len(t), np.int64)
        grams[has] = ngram_keys(text, k, V)[t[has] - k + 1]
        i, j = ngram._find(keys, grams), ngram._find(contexts, grams // V)
        a = np.where(i >= 0, counts[i], 0.0)
        S, T = np.where(j >= 0, totals[j], 0.0), np.where(j >= 0, followers[j], 0.0)
        mixed = (np.maximum(a - D, 0.0) + D * T * p) / np.maximum(S, 1.0)
        p = np.where(has, np.where(S > 0, mixed, p), p)
    return float(-np.mean(np.log(p)))


@pytest.mark.parametrize("order", [1, 2, 4, 8])
def test_ranked_keys_score_as_base_v_keys_bit_for_bit(order):
    rng = np.random.default_rng(order)
    V = 9
    ids = np.concatenate([rng.integers(0, V, 40)] * 20 + [rng.integers(0, V, 300)])
    text = np.concatenate([ids[100:400], rng.integers(0, V, 200)])  # seen and unseen contexts
    assert KneserNey(ids, order, V).nll(text) == _base_v_reference(ids, order, V, text)


def test_order_8_on_the_chapter_text_scores_as_before():
    """The chapter's order-8 model scored by the base-V implementation (before orders of 9 and up
    could be counted): validation 1.3495718190107195, test 1.5153617515886435 nats/char."""
    from lstm_lib import text as tx
    corpus = tx.load_stdlib_corpus()
    kn = KneserNey(corpus.train_ids, 8, corpus.vocab_size)
    assert kn.nll(corpus.val_ids) == pytest.approx(1.3495718190107195, abs=1e-12)
    assert kn.nll(corpus.test_ids) == pytest.approx(1.5153617515886435, abs=1e-12)


def test_orders_whose_base_v_keys_overflow_int64():
    V, order = 162, 12  # 162 ** 12 > 2 ** 88: base-V keys cannot hold these
    rng = np.random.default_rng(0)
    ids = np.concatenate([rng.integers(0, V, 30)] * 5 + [rng.integers(0, V, 50)])
    kn = KneserNey(ids, order, V)
    assert len(kn.levels) == order
    p = kn.probs(ids[10:10 + order - 1])  # a context seen 5 times, always with one follower
    assert p.sum() == pytest.approx(1, abs=1e-12) and np.argmax(p) == ids[10 + order - 1]
    assert p.max() > 0.8
    with pytest.raises(ValueError, match="2 \\*\\* 63"):
        ngram_keys(ids, order, V)


def test_order_scores_are_the_models_scores_bit_for_bit():
    rng = np.random.default_rng(3)
    V = 7
    ids = np.concatenate([rng.integers(0, V, 25)] * 12 + [rng.integers(0, V, 200)])
    texts = [ids[50:250], rng.integers(0, V, 100), ids[:3]]
    got = dict(order_scores(ids, V, texts, [1, 2, 3, 6, 11]))
    assert list(got) == [1, 2, 3, 6, 11]
    for n, nlls in got.items():
        kn = KneserNey(ids, n, V)
        assert nlls == [kn.nll(x) for x in texts]


def test_search_stops_after_patience_orders_without_a_new_best(monkeypatch):
    bits = {1: 3.0, 2: 2.0, 3: 1.5, 4: 1.6, 5: 1.4, 6: 1.45, 7: 1.41, 8: 1.4, 9: 1.0}

    def scripted(ids, V, texts, orders, discount=None):
        for k in orders:
            yield k, [bits[k]]

    monkeypatch.setattr(ngram, "order_scores", scripted)
    found = search_order([0, 1], 2, [0, 1], patience=3)
    assert found["best"] == 5 and list(found["scores"]) == list(range(1, 9))  # 6, 7, 8 no better
    assert found["stopped"] == "patience"
    found = search_order([0, 1], 2, [0, 1], patience=1, max_order=9)
    assert found["best"] == 3 and found["stopped"] == "patience" and max(found["scores"]) == 4
    found = search_order([0, 1], 2, [0, 1], patience=5, max_order=6)
    assert found["best"] == 5 and found["stopped"] == "max_order"


def test_search_on_a_real_stream_ends_past_its_best():
    rng = np.random.default_rng(5)
    V = 6
    ids = np.concatenate([rng.integers(0, V, 60)] * 10 + [rng.integers(0, V, 300)])
    found = search_order(ids[:700], V, ids[700:], patience=2)
    scores = found["scores"]
    assert max(scores) == found["best"] + 2 and found["stopped"] == "patience"
    assert all(scores[k] >= scores[found["best"]] for k in scores)
    assert scores[found["best"]] == KneserNey(ids[:700], found["best"], V).nll(ids[700:])
