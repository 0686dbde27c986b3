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

Each k-gram is stored as one integer, built level by level: the k-gram (h, w) gets the key
id(h) * V + w, where id(h) is the rank of its context h, a (k - 1)-gram, among the distinct
(k - 1)-grams of the training text (id of the empty context: 0). Ranks keep the order of the
characters, so for orders whose base-V numbers fit in int64 these keys sort exactly as the
base-V numbers `ngram_keys` gives, and the model computes the same numbers; but the keys stay
below (number of distinct (k - 1)-grams) * V at every order, so any order can be counted, with
no hashing and so no collision. A table is a sorted array of these keys, looked up with
`np.searchsorted`; a k-gram whose context was never seen in training gets the key -1 (absent).
"""
import numpy as np


def ngram_keys(ids, k, vocab_size):
    """The base-V number of every k-gram of `ids`, in order: (len(ids) - k + 1,) int64.

    The k-gram ids[s : s + k] gets sum_j ids[s + j] * V ** (k - 1 - j): equal keys, equal
    k-grams, and key // V is the key of its context (the first k - 1 characters). Only for
    V ** k < 2 ** 63 (the model itself uses ranked keys, which have no such limit)."""
    if vocab_size ** k >= 2 ** 63:
        raise ValueError(f"vocab_size ** k must be < 2 ** 63 for base-V keys, got {vocab_size} ** {k}")
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
    """The counts a_k of one order k: the sorted keys of its k-grams and the running sum of
    their counts. The k-grams of one context h are one run of consecutive keys (from h * V to
    h * V + V - 1), so S_k(h) is a difference of two running sums and T_k(h) the length of
    the run."""

    def __init__(self, keys, counts, discount, vocab_size):
        self.keys, self.discount, self.V = keys, discount, vocab_size
        self.cum = np.concatenate([[0], np.cumsum(counts)])

    def prob(self, gram_keys, lower):
        """P_k(w | h) for k-grams (h, w) given as keys, from the lower order's P_{k-1}(w | h')."""
        i = _find(self.keys, gram_keys)
        a = np.where(i >= 0, self.cum[i + 1] - self.cum[i], 0).astype(np.float64)
        h = gram_keys // self.V * self.V  # the first key of the context's run (-V if unseen)
        lo, hi = np.searchsorted(self.keys, h), np.searchsorted(self.keys, h + self.V)
        S = (self.cum[hi] - self.cum[lo]).astype(np.float64)
        T = (hi - lo).astype(np.float64)
        D = self.discount
        mixed = (np.maximum(a - D, 0.0) + D * T * lower) / np.maximum(S, 1.0)
        return np.where(S > 0, mixed, lower)


def _count(ids, vocab_size, max_order):
    """Walk the orders k = 1 .. max_order of the training stream `ids`; for each yield
    (k, raw, continuation, first): `raw` = (keys, counts) of the k-grams, `continuation` =
    (keys, counts) of order k - 1 counted as continuation counts (None for k = 1), `first` =
    the key of the k-gram at position 0 (every distinct k-gram is in raw[0]; a continuation
    table lacks the first k-gram if it occurs only there)."""
    N = len(ids)
    keys, previous = ids.copy(), None  # order 1: context rank 0, key = the character
    for k in range(1, max_order + 1):
        distinct, first_at, rank, counts = np.unique(keys, return_index=True, return_inverse=True,
                                                     return_counts=True)
        continuation = None
        if previous is not None:  # each distinct k-gram once: its last k - 1 characters
            continuation = np.unique(previous[1:][first_at], return_counts=True)
        yield k, (distinct, counts), continuation, keys[0]
        if k < max_order:
            previous, keys = keys, rank[:N - k] * vocab_size + ids[k:]


def _extend(ranks, ids, k, vocab_size):
    """Keys of the k-grams of `ids` from the ranks of their (k - 1)-grams (-1: unseen context)."""
    n = max(len(ids) - k + 1, 0)
    r = ranks[:n]
    return np.where(r >= 0, r * vocab_size + ids[k - 1:k - 1 + n], -1)


def _positions(keys, k, t):
    """The k-gram key ending at each position t (-1 where t has fewer than k - 1 characters
    before it), and which positions have that much context."""
    has = t >= k - 1
    grams = np.full(len(t), -1, np.int64)
    grams[has] = keys[t[has] - k + 1]
    return grams, has


class KneserNey:
    """An interpolated Kneser-Ney model of order `order` (1 = unigram, 2 = bigram, ...)
    counted from the training stream `ids` over a vocabulary of `vocab_size` ids. Any order
    can be counted (memory grows with the number of distinct k-grams, about len(ids) per order
    at high orders).

    `discount`: one number for every order, or None for each order's n1 / (n1 + 2 n2).
    `probs(context)` -> the next-character distribution (vocab_size,), summing to 1;
    `log_probs(ids)` -> ln P(ids[t] | ids[:t]) for t = 1 .. len(ids) - 1;
    `nll(ids)` -> their negative mean, nats per character (the LSTM's loss on the same text).
    """

    def __init__(self, ids, order, vocab_size, discount=None):
        ids = _check(ids, order, vocab_size, discount)
        self.order, self.vocab_size = order, vocab_size
        self.levels, self._first = [], []
        for k, raw, continuation, first in _count(ids, vocab_size, order):
            if continuation is not None:
                self.levels.append(_level(continuation, discount, vocab_size))
            self._first.append(first)
            if k == order:  # raw counts at the top order
                self.levels.append(_level(raw, discount, vocab_size))

    @property
    def discounts(self):
        """The discount of each order, lowest first."""
        return [lev.discount for lev in self.levels]

    def _vocab(self, k):
        """Every distinct k-gram key of the training text, sorted (k < order)."""
        keys, first = self.levels[k - 1].keys, self._first[k - 1]
        at = np.searchsorted(keys, first)
        return keys if at < len(keys) and keys[at] == first else np.insert(keys, at, first)

    def _keys(self, ids):
        """The keys of the k-grams of `ids` for k = 1 .. order (a list, lowest first)."""
        out, ranks = [], np.zeros(len(ids) + 1, np.int64)
        for k in range(1, self.order + 1):
            out.append(_extend(ranks, ids, k, self.vocab_size))
            if k < self.order:
                ranks = _find(self._vocab(k), out[-1])
        return out

    def probs(self, context):
        """P(w | context) for every w: (vocab_size,). Only the last order - 1 ids of the
        context matter; a shorter context uses the orders it has."""
        context = np.asarray(context, np.int64)
        context = context[max(len(context) - (self.order - 1), 0):]
        V = self.vocab_size
        keys = self._keys(context)
        p = np.full(V, 1.0 / V)
        for k, level in enumerate(self.levels, 1):
            if k - 1 > len(context):
                break
            rank = 0 if k == 1 else int(_find(self._vocab(k - 1), keys[k - 2][-1:])[0])  # of the last k - 1 ids
            grams = np.full(V, -1, np.int64) if rank < 0 else rank * V + np.arange(V)
            p = level.prob(grams, p)
        return p

    def log_probs(self, ids):
        """ln P(ids[t] | ids[:t]) for t = 1 .. len(ids) - 1: (len(ids) - 1,). Position t uses
        the min(t, order - 1) characters before it."""
        ids = np.asarray(ids, np.int64)
        t = np.arange(1, len(ids))
        p = np.full(len(t), 1.0 / self.vocab_size)
        for k, (level, keys) in enumerate(zip(self.levels, self._keys(ids)), 1):
            grams, has = _positions(keys, k, t)
            p = np.where(has, level.prob(grams, p), p)
        return np.log(p)

    def nll(self, ids):
        """Mean negative log-likelihood of ids[1:] given what precedes each, nats per character."""
        return float(-np.mean(self.log_probs(ids)))


def _check(ids, order, vocab_size, discount):
    ids = np.asarray(ids, np.int64)
    if order < 1:
        raise ValueError(f"order must be >= 1, got order {order}")
    if len(ids) <= order:
        raise ValueError(f"{len(ids)} training ids are too few for order {order}")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"ids must be in [0, {vocab_size - 1}], got {ids.min()}..{ids.max()}")
    if discount is not None and not 0 < discount <= 1:
        raise ValueError(f"discount must be in (0, 1], got {discount}")
    return ids


def _level(table, discount, vocab_size):
    keys, counts = table
    return _Level(keys, counts, discount_estimate(counts) if discount is None else discount, vocab_size)


def order_scores(ids, vocab_size, texts, orders, discount=None):
    """The Kneser-Ney models of `orders` (increasing, may be endless) counted on `ids`, each
    scored on every stream of `texts` (a list of id arrays): yields (order, [mean negative
    log-likelihood of each text, nats per character]) one order at a time. The same numbers as
    KneserNey(ids, order, ...).nll(text), bit for bit, in one pass over the orders: the model
    of order n shares its lower orders (continuation counts) with every higher one, so each
    order costs one more level, and only two levels are held at a time."""
    ids = _check(ids, 1, vocab_size, discount)
    texts = [np.asarray(x, np.int64) for x in texts]
    t = [np.arange(1, len(x)) for x in texts]
    lower = [np.full(len(tt), 1.0 / vocab_size) for tt in t]  # P_{k-1}, continuation counts below k
    ranks = [np.zeros(len(x) + 1, np.int64) for x in texts]
    previous = [None] * len(texts)
    wanted = iter(orders)
    target = next(wanted, None)
    for k, raw, continuation, _ in _count(ids, vocab_size, len(ids) - 1):
        if target is None:
            return
        keys = [_extend(r, x, k, vocab_size) for r, x in zip(ranks, texts)]
        if continuation is not None:  # order k - 1 as the lower order of order k
            level = _level(continuation, discount, vocab_size)
            for i in range(len(texts)):
                grams, has = _positions(previous[i], k - 1, t[i])
                lower[i] = np.where(has, level.prob(grams, lower[i]), lower[i])
        if k == target:
            level, nlls = _level(raw, discount, vocab_size), []
            for i in range(len(texts)):
                grams, has = _positions(keys[i], k, t[i])
                nlls.append(float(-np.mean(np.log(np.where(has, level.prob(grams, lower[i]), lower[i])))))
            yield k, nlls
            target = next(wanted, None)
        ranks, previous = [_find(raw[0], x) for x in keys], keys


def search_order(ids, vocab_size, val_ids, patience=3, max_order=64, discount=None):
    """Search the order on validation: count orders 1, 2, 3, ... on `ids`, score each on
    `val_ids`, and stop once `patience` orders in a row have not beaten the best validation
    score so far (or at `max_order`, which the result then says). Returns {"scores": {order:
    validation nats per character}, "best": the order with the lowest, "stopped": "patience"
    or "max_order"}."""
    scores, best = {}, None
    for k, (nll,) in order_scores(ids, vocab_size, [val_ids], range(1, max_order + 1), discount):
        scores[k] = nll
        if best is None or nll < scores[best]:
            best = k
        if k - best >= patience:
            return {"scores": scores, "best": best, "stopped": "patience"}
    return {"scores": scores, "best": best, "stopped": "max_order"}
