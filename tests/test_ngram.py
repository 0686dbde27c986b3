"""lstm_lib.ngram: interpolated Kneser-Ney character models (chapter 11's baselines)."""
import numpy as np
import pytest

from lstm_lib.ngram import KneserNey, discount_estimate, ngram_keys


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


@pytest.mark.parametrize("order", [1, 2, 3, 5, 7])
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
    with pytest.raises(ValueError, match="order"):
        KneserNey(list(range(200)) * 2, 9, 200)  # 200 ** 9 overflows the int64 keys
    with pytest.raises(ValueError, match="too few"):
        KneserNey([0, 1], 3, 3)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        KneserNey([0, 1, 3, 1], 2, 3)
    with pytest.raises(ValueError, match="discount"):
        KneserNey([0, 1, 0, 1], 2, 3, discount=1.5)
