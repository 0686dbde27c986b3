"""Interpolated Kneser-Ney n-gram models of a character stream: the counting baselines a
language model has to beat (chapter 11).

An order-n model predicts the next character from the n - 1 before it. Counts alone give
zero probability to anything unseen, so the model mixes orders: from the n-gram counts it
takes away a discount D from every seen count and hands the freed probability to the
(n - 1)-gram model of the shorter context, and so on down to the uniform distribution:

    P_k(w | h) = max(a_k(h w) - D_k, 0) / S_k(h)  +  D_k T_k(h) / S_k(h) * P_{k-1}(w | h')

with h' = h without its first character, S_k(h) = sum over w of a_k(h w), T_k(h) the number
of distinct w with a_k(h w) > 0, and P_0(w) = 1 / V. A context never seen in training
(S_k(h) = 0) passes the lower order through unchanged. The counts a_k are the raw counts at
the top order n; below it they are *continuation counts*, the number of distinct characters
seen in front of the k-gram (Kneser & Ney 1995): a lower order is only consulted when the
longer context did not settle it, so it should score how many contexts a character follows,
not how often it occurs. The discount of each order is n1 / (n1 + 2 n2) from the numbers of
k-grams counted once and twice (Ney, Essen & Kneser 1994). This is "interpolated Kneser-Ney"
of Chen & Goodman (1998), with one discount per order.

Each k-gram is stored as one integer, its characters read as the digits of a base-V number;
a table is a sorted array of these keys, looked up with `np.searchsorted`.
"""
import numpy as np

MAX_KEY = 2 ** 62  # the largest k-gram key int64 holds with room to spare


def ngram_keys(ids, k, vocab_size):
    """The key of every k-gram of `ids`, in order: (len(ids) - k + 1,) int64.

    The k-gram ids[s : s + k] gets sum_j ids[s + j] * V ** (k - 1 - j): equal keys, equal
    k-grams, and key // V is the key of its context (the first k - 1 characters)."""
    ids = np.asarray(ids, np.int64)
    n = len(ids) - k + 1
    keys = np.zeros(max(n, 0), np.int64)
    for j in range(k):
        keys = keys * vocab_size + ids[j:j + n]
    return keys


def discount_estimate(counts):
    """Ney, Essen & Kneser's discount n1 / (n1 + 2 n2) from an array of counts; 0.5 when no
    count is 1 (too few data to tell)."""
    n1, n2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
    return n1 / (n1 + 2 * n2) if n1 > 0 else 0.5


def _find(sorted_keys, queries):
    """Index of each query in `sorted_keys`, -1 where it is absent."""
    i = np.searchsorted(sorted_keys, queries)
    i = np.minimum(i, len(sorted_keys) - 1)
    return np.where(sorted_keys[i] == queries, i, -1) if len(sorted_keys) else np.full_like(i, -1)


class _Level:
    """The counts of one order k: k-gram keys and their counts a_k, and per context h (a
    (k-1)-gram key) the total S_k(h) and the number of distinct followers T_k(h)."""

    def __init__(self, keys, counts, discount, vocab_size):
        self.keys, self.counts, self.discount, self.V = keys, counts.astype(np.float64), discount, vocab_size
        self.contexts, where = np.unique(keys // vocab_size, return_inverse=True)
        self.totals = np.bincount(where, weights=self.counts)  # S_k(h)
        self.followers = np.bincount(where).astype(np.float64)  # T_k(h)

    def prob(self, gram_keys, lower):
        """P_k(w | h) for k-grams (h, w) given as keys, from the lower order's P_{k-1}(w | h')."""
        i = _find(self.keys, gram_keys)
        a = np.where(i >= 0, self.counts[i], 0.0)
        j = _find(self.contexts, gram_keys // self.V)
        S = np.where(j >= 0, self.totals[j], 0.0)
        T = np.where(j >= 0, self.followers[j], 0.0)
        D = self.discount
        mixed = (np.maximum(a - D, 0.0) + D * T * lower) / np.maximum(S, 1.0)
        return np.where(S > 0, mixed, lower)


class KneserNey:
    """An interpolated Kneser-Ney model of order `order` (1 = unigram, 2 = bigram, ...)
    counted from the training stream `ids` over a vocabulary of `vocab_size` ids.

    `discount`: one number for every order, or None for each order's n1 / (n1 + 2 n2).
    `probs(context)` -> the next-character distribution (vocab_size,), summing to 1;
    `log_probs(ids)` -> ln P(ids[t] | ids[:t]) for t = 1 .. len(ids) - 1;
    `nll(ids)` -> their negative mean, nats per character (the LSTM's loss on the same text).
    """

    def __init__(self, ids, order, vocab_size, discount=None):
        ids = np.asarray(ids, np.int64)
        if order < 1 or vocab_size ** order >= MAX_KEY:
            raise ValueError(f"order must be >= 1 and vocab_size ** order < 2 ** 62, "
                             f"got order {order}, vocab_size {vocab_size}")
        if len(ids) <= order:
            raise ValueError(f"{len(ids)} training ids are too few for order {order}")
        if ids.min() < 0 or ids.max() >= vocab_size:
            raise ValueError(f"ids must be in [0, {vocab_size - 1}], got {ids.min()}..{ids.max()}")
        if discount is not None and not 0 < discount <= 1:
            raise ValueError(f"discount must be in (0, 1], got {discount}")
        self.order, self.vocab_size = order, vocab_size
        self.levels = []
        for k in range(1, order + 1):
            if k == order:  # raw counts of the k-grams
                keys, counts = np.unique(ngram_keys(ids, k, vocab_size), return_counts=True)
            else:  # continuation counts: how many distinct characters precede the k-gram
                longer = np.unique(ngram_keys(ids, k + 1, vocab_size))
                keys, counts = np.unique(longer % vocab_size ** k, return_counts=True)
            D = discount_estimate(counts) if discount is None else discount
            self.levels.append(_Level(keys, counts, D, vocab_size))

    @property
    def discounts(self):
        """The discount of each order, lowest first."""
        return [lev.discount for lev in self.levels]

    def probs(self, context):
        """P(w | context) for every w: (vocab_size,). Only the last order - 1 ids of the
        context matter; a shorter context uses the orders it has."""
        context = np.asarray(context, np.int64)
        context = context[max(len(context) - (self.order - 1), 0):]
        V = self.vocab_size
        p = np.full(V, 1.0 / V)
        for k, level in enumerate(self.levels, 1):
            if k - 1 > len(context):
                break
            h = ngram_keys(context[len(context) - (k - 1):], k - 1, V)[0]  # 0 for k = 1
            p = level.prob(h * V + np.arange(V), p)
        return p

    def log_probs(self, ids):
        """ln P(ids[t] | ids[:t]) for t = 1 .. len(ids) - 1: (len(ids) - 1,). Position t uses
        the min(t, order - 1) characters before it."""
        ids = np.asarray(ids, np.int64)
        t = np.arange(1, len(ids))
        p = np.full(len(t), 1.0 / self.vocab_size)
        for k, level in enumerate(self.levels, 1):
            has = t >= k - 1  # positions with k - 1 characters of context
            grams = np.zeros(len(t), np.int64)
            grams[has] = ngram_keys(ids, k, self.vocab_size)[t[has] - k + 1]
            p = np.where(has, level.prob(grams, p), p)
        return np.log(p)

    def nll(self, ids):
        """Mean negative log-likelihood of ids[1:] given what precedes each, nats per character."""
        return float(-np.mean(self.log_probs(ids)))
