"""Text for the character language model of chapter 11, and the numbers that judge it.

The corpus is the source code of a fixed list of modules from the Python standard library,
as shipped with this package: a snapshot of CPython 3.11.7's files
(`data/python-3.11.7-stdlib.tar.xz`, PSF licence, see `data/README.md`; written by
`experiments/stdlib_snapshot.py`). Nothing is downloaded, and every Python reads the same
characters.

Also here: a fixed train/validation split of those modules, a held-out test text (other
modules, never trained on or tuned on), a second held-out text on which nothing is chosen
(`HELD_OUT_MODULES`), a vocabulary built from the training part, counted unigram and bigram
baselines, perplexity and bits per character, and sampling with a temperature. (The n-gram
models that a language model has to beat are in `ngram.py`.)
"""
import functools
import math
import tarfile
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .activations import log_softmax
from .seeding import get_rng

# Pure-Python standard-library modules, in this (fixed) order.
CORPUS_MODULES = ("textwrap", "string", "fractions", "bisect", "heapq", "shlex", "calendar",
                  "colorsys", "queue", "statistics", "fnmatch", "glob", "random", "functools",
                  "pprint", "contextlib", "dataclasses")
# Held-out test text: four other modules.
TEST_MODULES = ("abc", "cmd", "copy", "csv")
# More training text for the shipped model of chapter 11: pure-Python standard-library modules
# of 8-60 kB, none of them in CORPUS_MODULES or TEST_MODULES (about 1.8 M characters).
MORE_TRAINING_MODULES = (
    "shelve", "pipes", "mailcap", "graphlib", "types", "filecmp", "numbers", "symtable",
    "opcode", "imp", "code", "operator", "tabnanny", "pyclbr", "asynchat", "hashlib", "bz2",
    "cgitb", "stringprep", "runpy", "lzma", "timeit", "poplib", "fileinput", "posixpath",
    "tracemalloc", "sunau", "selectors", "compileall", "asyncore", "warnings", "base64",
    "gettext", "weakref", "wave", "site", "mimetypes", "profile", "telnetlib", "modulefinder",
    "gzip", "pkgutil", "webbrowser", "tokenize", "socketserver", "uuid", "plistlib", "dis",
    "trace", "pstats", "tempfile", "ntpath", "sysconfig", "zipimport", "smtpd", "bdb", "aifc",
    "cgi", "ftplib", "codecs", "socket", "os", "traceback", "nntplib", "platform", "smtplib",
    "pathlib", "ssl", "imaplib", "configparser", "shutil", "threading")
# Held-out text on which nothing is chosen: every other top-level pure-Python module of
# 3.11.7 of 2-10 kB (a size rule fixed before any score was seen).
HELD_OUT_MODULES = (
    "cProfile", "chunk", "codeop", "copyreg", "crypt", "genericpath", "getopt", "getpass", "hmac",
    "imghdr", "io", "linecache", "netrc", "nturl2path", "pty", "py_compile", "quopri", "reprlib",
    "rlcompleter", "sched", "secrets", "signal", "sndhdr", "stat", "token", "uu", "xdrlib", "zipapp")
ALL_MODULES = CORPUS_MODULES + TEST_MODULES + MORE_TRAINING_MODULES + HELD_OUT_MODULES
SNAPSHOT_PYTHON = "3.11.7"
SNAPSHOT = f"python-{SNAPSHOT_PYTHON}-stdlib.tar.xz"  # in lstm_lib.data
UNKNOWN = "\ufffd"  # stands for any character that the training part does not contain


@functools.lru_cache(maxsize=1)
def snapshot():
    """{module name: source text} of the shipped standard-library snapshot."""
    with resources.as_file(resources.files("lstm_lib.data") / SNAPSHOT) as path, tarfile.open(path) as tar:
        return {m.name.removesuffix(".py"): tar.extractfile(m).read().decode("utf-8")
                for m in tar.getmembers() if m.isfile()}


def stdlib_sources(modules=CORPUS_MODULES):
    """[(module name, source text)] of the modules, from the shipped snapshot, in the given order."""
    texts = snapshot()
    missing = [m for m in modules if m not in texts]
    if missing:
        raise KeyError(f"modules not in the snapshot {SNAPSHOT}: {missing}")
    return [(m, texts[m]) for m in modules]


@dataclass
class CharCorpus:
    """A text split into a training part (the first `1 - val_fraction`) and a validation
    part (the rest), with a vocabulary from the training part only; optionally a separate
    test text (`test_text`, from `test_sources`).

    `chars[i]` is the character of id i; the last id is UNKNOWN, used for characters that
    occur only outside the training part. `train_ids`, `val_ids` and `test_ids` are int64
    arrays (`test_ids` empty without a test text)."""

    text: str
    val_fraction: float = 0.1
    sources: list = field(default_factory=list)
    test_text: str = ""
    test_sources: list = field(default_factory=list)

    def __post_init__(self):
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        cut = int(len(self.text) * (1 - self.val_fraction))
        self.train_text, self.val_text = self.text[:cut], self.text[cut:]
        self.chars = sorted(set(self.train_text)) + [UNKNOWN]
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.train_ids = self.encode(self.train_text)
        self.val_ids = self.encode(self.val_text)
        self.test_ids = self.encode(self.test_text)

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, text):
        unk = self.index[UNKNOWN]
        return np.array([self.index.get(c, unk) for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in np.ravel(ids))


def load_stdlib_corpus(modules=CORPUS_MODULES, val_fraction=0.1, max_chars=None,
                       test_modules=TEST_MODULES):
    """The CharCorpus of the standard-library modules' source, concatenated in order, with
    the `test_modules`' source (concatenated the same way) as its held-out test text.

    Reads the shipped snapshot only. `max_chars` keeps only the first characters of the training and
    validation text (for quick tests)."""
    sources, test_sources = stdlib_sources(modules), stdlib_sources(test_modules)
    text = "\n".join(source for _, source in sources)
    if max_chars is not None:
        text = text[:max_chars]
    test_text = "\n".join(source for _, source in test_sources)
    return CharCorpus(text, val_fraction, [m for m, _ in sources], test_text,
                      [m for m, _ in test_sources])


def held_out_text(modules=HELD_OUT_MODULES):
    """The held-out modules' source, concatenated like the others: the text on which nothing
    is chosen, scored once at the end of chapter 11."""
    return "\n".join(source for _, source in stdlib_sources(modules))


def more_training_ids(corpus, modules=MORE_TRAINING_MODULES):
    """(ids, module names): the source of `modules` followed by the
    corpus's own training part, in the corpus's vocabulary (a character it lacks -> UNKNOWN).
    Validation and test stay the corpus's."""
    sources = stdlib_sources(modules)
    overlap = {m for m, _ in sources} & (set(corpus.sources) | set(corpus.test_sources))
    if overlap:
        raise ValueError(f"modules already in the corpus or its test text: {sorted(overlap)}")
    text = "\n".join(source for _, source in sources) + "\n"
    return np.concatenate([corpus.encode(text), corpus.train_ids]), [m for m, _ in sources]


def batchify(ids, batch_size):
    """Cut a stream of ids into `batch_size` parallel streams for truncated BPTT.

    Returns X, Y of shape (batch_size, n): Y is X shifted by one character (the next one)."""
    ids = np.asarray(ids)
    n = (len(ids) - 1) // batch_size
    if n < 1:
        raise ValueError(f"{len(ids)} ids are too few for batch_size {batch_size}")
    X = ids[:n * batch_size].reshape(batch_size, n)
    Y = ids[1:n * batch_size + 1].reshape(batch_size, n)
    return X, Y


# --- counted baselines ----------------------------------------------------------------------

def unigram_probs(ids, vocab_size, alpha=1.0):
    """P(c) from counts with add-alpha smoothing: (vocab_size,)."""
    counts = np.bincount(np.asarray(ids), minlength=vocab_size).astype(np.float64)
    counts += alpha
    return counts / counts.sum()


def bigram_probs(ids, vocab_size, alpha=0.1):
    """P(next | previous) from counted pairs with add-alpha smoothing: (vocab_size, vocab_size),
    row = previous character, each row sums to 1."""
    ids = np.asarray(ids)
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    counts += alpha
    return counts / counts.sum(axis=1, keepdims=True)


def unigram_nll(probs, ids):
    """Mean negative log-likelihood (nats per character) of `ids` under unigram `probs`."""
    return float(-np.mean(np.log(probs[np.asarray(ids)])))


def bigram_nll(probs, ids):
    """Mean negative log-likelihood (nats per character) of ids[1:] given ids[:-1]."""
    ids = np.asarray(ids)
    return float(-np.mean(np.log(probs[ids[:-1], ids[1:]])))


def perplexity(nll):
    """exp(mean negative log-likelihood in nats): the effective number of equally likely
    choices the model hesitates between at each character."""
    return float(math.exp(nll))


def bits_per_char(nll):
    """Mean negative log-likelihood converted from nats to bits: nll / ln 2."""
    return float(nll / math.log(2))


# --- sampling ---------------------------------------------------------------------------------

def temperature_probs(logits, temperature):
    """softmax(logits / temperature) over the last axis; temperature 0 gives the one-hot of
    the argmax (the limit as the temperature goes to 0)."""
    logits = np.asarray(logits, np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        out = np.zeros_like(logits)
        np.put_along_axis(out, np.argmax(logits, axis=-1)[..., None], 1.0, axis=-1)
        return out
    return np.exp(log_softmax(logits / temperature))


def sample(logits, temperature=1.0, rng=None):
    """One id drawn from softmax(logits / temperature) for a 1-D `logits`; temperature 0
    returns the argmax. Low temperatures sharpen the distribution, high ones flatten it."""
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 1:
        raise ValueError(f"logits must be 1-D (vocab,), got shape {logits.shape}")
    if temperature == 0:
        return int(np.argmax(logits))
    p = temperature_probs(logits, temperature)
    rng = rng or get_rng()
    return int(rng.choice(len(p), p=p / p.sum()))
