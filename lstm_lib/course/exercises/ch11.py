"""Self-checks for chapter 11 (a character language model): the score of two texts read as
one, an interpolated Kneser-Ney bigram model built by hand (against lstm_lib.ngram), the
temperature, the model wired by hand (against CharLM) and the sampling loop (against
CharLM.generate)."""
import copy

import numpy as np

from ...char_lm import CharLM
from ...losses import SoftmaxCrossEntropy
from ...ngram import KneserNey
from ...text import sample, temperature_probs
from ..selfcheck import Mistake, expect_array, self_check

# Exercise 1: one model's scores on two texts, {name: (characters, bits per character)}.
TWO_TEXTS = {"validation": (38_324, 2.10), "test": (46_125, 2.30)}


@self_check("right: a score per character is a mean over characters, and the perplexity "
            "follows from the combined bits.")
def check_bpc_perplexity(answer, texts=TWO_TEXTS):
    """Exercise 1: answer = (bits per character, perplexity) of the texts in `texts` read as
    one text; `texts` maps a name to (number of characters, bits per character)."""
    try:
        bpc, ppl = (float(v) for v in answer)
    except (TypeError, ValueError):
        raise Mistake("give a pair of numbers: (bits_per_char, perplexity)")
    n, b = (np.array(v, np.float64) for v in zip(*texts.values()))
    right = float((n * b).sum() / n.sum())
    if not np.isclose(bpc, right, rtol=1e-6):
        if np.isclose(bpc, b.mean(), rtol=1e-6):
            raise Mistake("that is the plain mean of the two scores; the texts have different "
                          "lengths: weight each score by its number of characters")
        if np.isclose(bpc, (n * b).sum(), rtol=1e-6):
            raise Mistake("that is the total number of bits; divide by the number of characters")
        if np.isclose(bpc, right * np.log(2), rtol=1e-6):
            raise Mistake("that is in nats; the scores are already in bits, keep them in bits")
        raise Mistake(f"bits per character {bpc:.4g} is off: total bits / total characters")
    if np.isclose(ppl, 2 ** right, rtol=1e-6):
        return
    if np.isclose(ppl, np.exp(right), rtol=1e-6):
        raise Mistake("perplexity is 2 ** (bits per char), or e ** (nats per char); you mixed the two")
    if np.isclose(ppl, np.mean(2 ** b), rtol=1e-6) or np.isclose(ppl, (n * 2 ** b).sum() / n.sum(), rtol=1e-6):
        raise Mistake("perplexities do not average: combine the bits, then take 2 ** bits")
    raise Mistake(f"perplexity {ppl:.4g} is off: 2 ** (bits per character)")


# --- Exercise 2: interpolated Kneser-Ney, order 2, by hand -------------------------------------

# The checker's training text: "abracadabra" over the alphabet a b c d r z ('z' never occurs,
# so its row is a context never seen, and its column a character never seen).
KN_ALPHABET = "abcdrz"
KN_TEXT = "abracadabra"
KN_DISCOUNT = 0.5


def kn_bigram_reference(ids, vocab_size, D, slip=None):
    """P[h, w] of the interpolated Kneser-Ney bigram model with one discount D, written out
    plainly; `slip` plants one of the mistakes in KN_SLIPS (None: the right model)."""
    ids = np.asarray(ids)
    V = vocab_size
    pairs = np.zeros((V, V))
    np.add.at(pairs, (ids[:-1], ids[1:]), 1)  # c(h w): how often w followed h
    if slip == "raw counts below":
        a1 = np.bincount(ids, minlength=V).astype(float)  # how often w occurred
    else:
        a1 = (pairs > 0).sum(axis=0).astype(float)  # continuation: how many different h before w
    if slip == "lower order unsmoothed":
        P1 = a1 / a1.sum()
    else:
        P1 = np.maximum(a1 - D, 0) / a1.sum() + D * (a1 > 0).sum() / a1.sum() / V
    S = pairs.sum(axis=1, keepdims=True)  # c(h .)
    T = (pairs > 0).sum(axis=1, keepdims=True)  # how many different w after h
    if slip == "T is a count":
        T = S
    Sd = np.maximum(S, 1)
    if slip == "no discount":
        P = pairs / Sd
    elif slip == "mass dropped":
        P = np.maximum(pairs - D, 0) / Sd
    elif slip == "backing off":
        P = np.where(pairs > 0, np.maximum(pairs - D, 0) / Sd, D * T / Sd * P1)
    else:
        P = np.maximum(pairs - D, 0) / Sd + D * T / Sd * P1
    unseen = (S == 0)[:, 0]
    P[unseen] = np.full(V, 1 / V) if slip == "unseen context uniform" else (0 if slip == "unseen context zero" else P1)
    return P


KN_SLIPS = {
    "raw counts below": "the lower order counts how often each character occurred; Kneser-Ney's "
                        "lower order counts in how many DIFFERENT contexts it occurred (the number "
                        "of distinct characters seen before it)",
    "lower order unsmoothed": "the lower order is a bare ratio of counts, so a character never seen "
                              "gets probability 0: discount it too and give the freed mass to the "
                              "uniform 1 / V",
    "T is a count": "T(h) is the number of DIFFERENT characters seen after h, not how often h "
                    "occurred",
    "no discount": "nothing is taken off the seen counts: subtract D from each (never below 0) "
                   "and hand the freed D * T(h) / c(h) to the lower order",
    "mass dropped": "the freed probability D * T(h) / c(h) is taken off and not given back: mix "
                    "it in as D * T(h) / c(h) * P1(w), so each row sums to 1",
    "backing off": "the lower order is used only where c(h w) = 0 (backing off); interpolated "
                   "Kneser-Ney adds D * T(h) / c(h) * P1(w) to EVERY w, seen or not",
    "unseen context uniform": "a context never seen gets the uniform distribution; it should pass "
                              "the lower order P1 through unchanged",
    "unseen context zero": "a context never seen gets all zeros; it should pass the lower order P1 "
                           "through unchanged",
}


@self_check("your bigram model is lstm_lib.ngram.KneserNey(order=2) on every context, seen or not.")
def check_kneser_ney(kn_bigram):
    """Exercise 2: kn_bigram(ids, vocab_size, D) -> P (vocab_size, vocab_size), row h the
    interpolated Kneser-Ney distribution of the character after h; compared with
    KneserNey(ids, 2, vocab_size, discount=D) on the checker's text (KN_TEXT)."""
    if not callable(kn_bigram):
        raise Mistake("pass the function itself, e.g. check_kneser_ney(kn_bigram)")
    V = len(KN_ALPHABET)
    ids = np.array([KN_ALPHABET.index(c) for c in KN_TEXT])
    got = expect_array(_run("kn_bigram", kn_bigram, ids.copy(), V, KN_DISCOUNT), "P")
    if got.shape != (V, V):
        raise Mistake(f"P has shape {got.shape}, expected (vocab_size, vocab_size) = {(V, V)}")
    kn = KneserNey(ids, 2, V, discount=KN_DISCOUNT)
    right = np.array([kn.probs([h]) for h in range(V)])
    if np.allclose(got, right, atol=1e-9):
        return
    if np.allclose(got, right.T, atol=1e-9):
        raise Mistake("P is transposed: row h, column w is P(w | h)")
    for slip, message in KN_SLIPS.items():
        if np.allclose(got, kn_bigram_reference(ids, V, KN_DISCOUNT, slip), atol=1e-9):
            raise Mistake(message)
    bad = [KN_ALPHABET[h] for h in range(V) if not np.allclose(got[h], right[h], atol=1e-9)]
    sums = got.sum(axis=1)
    if not np.allclose(sums, 1, atol=1e-9):
        raise Mistake(f"the rows do not sum to 1 (row sums {np.round(sums, 3)}): every context's "
                      f"distribution must be complete")
    raise Mistake(f"the distributions after {', '.join(map(repr, bad))} differ from Kneser-Ney's: "
                  f"P(w | h) = max(c(hw) - D, 0) / c(h) + D T(h) / c(h) P1(w)")


@self_check("your temperature softmax matches, including the limit at temperature 0.")
def check_temperature(apply_temperature):
    """Exercise 3: apply_temperature(logits (V,), temperature) -> probabilities (V,);
    temperature 0 must give the one-hot of the argmax."""
    if not callable(apply_temperature):
        raise Mistake("pass the function itself, e.g. check_temperature(apply_temperature)")
    logits = np.array([2.0, 1.0, 0.5, -1.0, 3.0])
    for T in (1.0, 0.5, 2.0):
        p = expect_array(apply_temperature(logits.copy(), T), "probabilities")
        if p.shape != logits.shape:
            raise Mistake(f"the result has shape {p.shape}, expected {logits.shape}")
        if not np.isclose(p.sum(), 1):
            raise Mistake(f"at temperature {T} the probabilities sum to {p.sum():.4f}, not 1: "
                          f"normalise with a softmax")
        if not np.allclose(p, temperature_probs(logits, T), atol=1e-6):
            if np.allclose(p, temperature_probs(logits * T, 1.0), atol=1e-6):
                raise Mistake("you multiplied the logits by the temperature; divide them: "
                              "softmax(logits / T)")
            if np.allclose(p, temperature_probs(logits, 1.0) ** (1 / T) /
                           (temperature_probs(logits, 1.0) ** (1 / T)).sum(), atol=1e-6):
                return  # p ** (1/T), renormalised, is the same distribution
            raise Mistake(f"at temperature {T} the probabilities differ from softmax(logits / T)")
    try:
        p0 = expect_array(apply_temperature(logits.copy(), 0.0), "probabilities")
    except ZeroDivisionError:
        raise Mistake("temperature 0 divides by zero: handle it as the limit, the one-hot of "
                      "the argmax")
    if not np.isfinite(p0).all():
        raise Mistake("at temperature 0 the result has NaN or inf: handle T = 0 separately, as "
                      "the one-hot of the argmax")
    if not np.allclose(p0, np.eye(5)[4]):
        raise Mistake("at temperature 0 all probability must go to the largest logit")


# --- Exercise 2: wire Embedding -> LSTM -> Linear with the loss ----------------------------------

def _reference_for(mine):
    """A one-layer float64 CharLM holding a copy of the learner's weights."""
    V, E = mine.embed.params["W"].shape
    ref = CharLM(V, E, mine.lstm.hidden_size, dtype=np.float64, rng=np.random.default_rng(0))
    for name, layer in (("embed", mine.embed), ("rnn.lstm0", mine.lstm), ("out", mine.out)):
        for k, v in layer.params.items():
            ref.params[f"{name}.{k}"][...] = v
    return ref


def _run(what, fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any crash in the learner's code is reported
        raise Mistake(f"{what} raised {type(exc).__name__}: {exc}")


@self_check("your model computes CharLM's loss and gradients, to rounding.")
def check_char_lm(model_class):
    """Exercise 2: model_class(vocab_size, embed_dim, hidden_size, rng) with layers `embed`,
    `lstm`, `out`, a `loss(ids, targets)` returning the mean cross-entropy and a `backward()`
    filling the layers' grads; compared with a CharLM holding the same weights (float64)."""
    if not isinstance(model_class, type):
        raise Mistake("pass the class itself, e.g. check_char_lm(MyCharLM)")
    V, E, H = 11, 5, 7
    mine = model_class(V, E, H, np.random.default_rng(0))
    for layer in (mine.embed, mine.lstm, mine.out):
        layer.astype(np.float64)
    ref = _reference_for(mine)
    ce = SoftmaxCrossEntropy()
    rng = np.random.default_rng(1)
    for call in range(2):  # twice: the second batch must not see the first one's state
        ids, targets = rng.integers(0, V, (3, 6)), rng.integers(0, V, (3, 6))
        loss = _run("loss(ids, targets)", mine.loss, ids, targets)
        logits = ref.forward(ids)
        right = ce.forward(logits, targets)
        try:
            loss = float(loss)
        except (TypeError, ValueError):
            raise Mistake(f"loss() should return the loss as a number, got {type(loss).__name__}")
        if not np.isclose(loss, right, rtol=1e-9):
            _name_loss_mistake(loss, logits, ids, targets, call)
        _run("backward()", mine.backward)
        ce.forward(logits, targets)
        ref.backward(ce.backward())
        _compare_grads(mine, ref)


def _name_loss_mistake(loss, logits, ids, targets, call):
    ce = SoftmaxCrossEntropy()
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if np.isclose(loss, ce.forward(probs, targets), rtol=1e-9):
        raise Mistake("the loss applies the softmax itself: give it the Linear layer's raw "
                      "scores (logits), not probabilities")
    if np.isclose(loss, ce.forward(logits, ids), rtol=1e-9):
        raise Mistake("you scored the model against its inputs: the targets are the next "
                      "characters, `targets`")
    if np.isclose(loss, ce.forward(logits[:, -1], targets[:, -1]), rtol=1e-9):
        raise Mistake("only the last time step is scored: the loss covers every step, "
                      "logits (batch, time, vocab) against targets (batch, time)")
    if call == 1:
        raise Mistake("the first batch was right, the second is not: the LSTM carried its state "
                      "from the first call; here every batch starts from zeros (stateful=False)")
    raise Mistake(f"the loss is {loss:.6g}, CharLM gives {ce.forward(logits, targets):.6g}: the "
                  f"order is embed -> lstm -> out, then self.loss_fn.forward(logits, targets)")


def _compare_grads(mine, ref):
    for name, layer in (("out", mine.out), ("rnn.lstm0", mine.lstm), ("embed", mine.embed)):
        for k, g in layer.grads.items():
            right = ref.grads[f"{name}.{k}"]
            if np.allclose(g, right, rtol=1e-7, atol=1e-12):
                continue
            if not np.any(g):
                where = {"out": "start with d = self.out.backward(self.loss_fn.backward())",
                         "rnn.lstm0": "pass the Linear layer's input gradient into self.lstm.backward",
                         "embed": "pass the LSTM's input gradient (what lstm.backward returns) "
                                  "into self.embed.backward"}[name]
                raise Mistake(f"{name.split('.')[-1]} got no gradient ({k} is all zeros): {where}")
            ratio = np.sum(g * right) / np.sum(right * right)
            if not np.isclose(ratio, 1, rtol=1e-3) and np.allclose(g, ratio * right, rtol=1e-5, atol=1e-12):
                raise Mistake(f"the gradients are {ratio:.3g} times the right ones: start the "
                              f"backward pass from self.loss_fn.backward(), nothing else")
            raise Mistake(f"the gradient of {name}.{k} is off: go backwards in reverse order, "
                          f"out -> lstm -> embed, each taking what the one above returned")


# --- Exercise 4: the sampling loop ----------------------------------------------------------

def _sampler_model():
    """A small untrained CharLM with spread-out, context-dependent predictions (weights
    scaled up) and dropout, so that every mistake changes the samples."""
    model = CharLM(12, 6, 10, num_layers=2, dropout=0.5, output_init="embedding",
                   rng=np.random.default_rng(5))
    for k, p in model.params.items():
        p *= 2.0 if k.startswith("rnn") else 1.0
    return model


# (prompt, seed) of each trial; temperature and length are the same for all
_SAMPLER_TRIALS = (([3, 1, 4, 1, 5], 7), ([2, 7, 1, 8], 8), ([9, 0, 9], 9))
_SAMPLER_N, _SAMPLER_TEMPERATURE = 30, 1.3


def _all_trials(sampler, model):
    """The ids `sampler` draws in every trial, each on a fresh copy of `model`, in one list."""
    return [np.asarray(sampler(copy.deepcopy(model), np.array(prompt), _SAMPLER_N,
                               _SAMPLER_TEMPERATURE, np.random.default_rng(seed))).astype(int).ravel()
            for prompt, seed in _SAMPLER_TRIALS]


def _wrong_sampler(mistake):
    """A sampler with one known mistake, for naming what the learner's code did."""

    def run(model, prompt, n, temperature, rng):
        if mistake != "train mode":
            model.eval()
        model.stateful = mistake != "no state"
        model.reset_state()
        logits = model.forward(np.asarray(prompt)[None])[0, 0 if mistake == "first step" else -1]
        out = []
        for _ in range(n):
            if mistake == "twice":
                nxt = sample(logits / temperature, temperature, rng)
            else:
                nxt = sample(logits, 1.0 if mistake == "ignored" else temperature, rng)
            out.append(nxt)
            fed = np.concatenate([prompt, [nxt]]) if mistake == "prompt again" else [nxt]
            logits = model.forward(np.asarray(fed)[None])[0, -1]
        return np.array(out)

    return run


_SAMPLER_MISTAKES = {
    "no state": "the state is not carried: each character is read from a zero state; set "
                "model.stateful = True (and model.reset_state() once, before the prompt)",
    "first step": "the first character came from the logits after the prompt's FIRST "
                  "character; take the last step, logits[0, -1]",
    "prompt again": "the prompt is fed again with every new character while the state is "
                    "carried: feed only the character you just drew",
    "twice": "the temperature is applied twice: tx.sample(logits, temperature, rng) divides "
             "by it already",
    "ignored": "the draws follow temperature 1: pass the temperature on to tx.sample",
    "train mode": "the model is in training mode, so dropout changes what it predicts: call "
                  "model.eval() before sampling",
}


@self_check("your loop draws exactly what CharLM.generate draws with the same seed.")
def check_sampler(sample_text):
    """Exercise 4: sample_text(model, prompt_ids, n, temperature, rng) -> the n new ids,
    compared with model.generate(prompt_ids, n, temperature, rng) on the same seeds."""
    if not callable(sample_text):
        raise Mistake("pass the function itself, e.g. check_sampler(sample_text)")
    model = _sampler_model()
    right = _all_trials(lambda m, *a: m.generate(*a), model)
    got = _run("sample_text", _all_trials, sample_text, model)
    n, (prompt, _) = _SAMPLER_N, _SAMPLER_TRIALS[0]
    if len(got[0]) == n + len(prompt) and np.array_equal(got[0][len(prompt):], right[0]):
        raise Mistake("return only the n new ids, without the prompt")
    if any(len(g) != n for g in got):
        raise Mistake(f"expected {n} new ids, got {len(got[0])}")
    if all(np.array_equal(g, r) for g, r in zip(got, right)):
        return
    if not all(np.array_equal(g, a) for g, a in zip(got, _all_trials(sample_text, model))):
        raise Mistake("two runs with the same seed drew different text: dropout is still on; "
                      "call model.eval() before sampling")
    for mistake, message in _SAMPLER_MISTAKES.items():
        wrong = _all_trials(_wrong_sampler(mistake), model)
        if all(np.array_equal(g, w) for g, w in zip(got, wrong)):
            raise Mistake(message)
    k = next(k for k, (g, r) in enumerate(zip(got, right)) if not np.array_equal(g, r))
    first = int(np.argmax(got[k] != right[k]))
    raise Mistake(f"the ids differ from CharLM.generate's (prompt {_SAMPLER_TRIALS[k][0]}, from "
                  f"position {first} on): feed the prompt once, then per step draw with "
                  f"tx.sample(logits, temperature, rng) and feed that one id back in, the state "
                  f"carried")
