"""Chapter 11's look inside a trained character model: what its gates and cells do on text.

- `record`: run a CharLM over a text one character at a time with the readable
  `cells.lstm_step`, and keep every layer's gate values, cell states and outputs, read by name
  from the step's cache (cache.i, cache.f, ...).
- `saturation`: how often each gate unit is nearly shut (< 0.1) or nearly open (> 0.9), the
  measure of Karpathy, Johnson & Fei-Fei (2015).
- `python_features`: properties of Python source at every character (indentation, inside a
  string, inside a comment, bracket depth, column), from the `tokenize` module, so strings
  and comments are found exactly (triple quotes, escapes and '#' inside strings included).
- `correlations` / `best_units`: Pearson correlation of every cell with every property.
"""
import io
import tokenize

import numpy as np

from .. import cells

GATES = ("i", "f", "o")  # the sigmoid gates; g is the tanh candidate
# Python 3.12 splits an f-string into FSTRING_START, its parts and FSTRING_END (its braces
# become OP tokens); 3.11 gives one STRING token. Both read as one string here.
_FSTRING_START, _FSTRING_END = getattr(tokenize, "FSTRING_START", None), getattr(tokenize, "FSTRING_END", None)


def record(model, ids):
    """Per LSTM layer of `model` (a CharLM), a dict name -> (T, hidden) array over the text
    `ids` (T,): gates 'i', 'f', 'g', 'o', cell state 'c' and output 'h' after each character.

    One character at a time from a zero state, float64, no dropout (evaluation)."""
    ids = np.asarray(ids, np.int64)
    x = model.parts["embed"].params["W"].astype(np.float64)[ids]  # (T, E)
    layers = []
    for lstm in model.rnn.lstms:
        p = {k: v.astype(np.float64) for k, v in lstm.params.items()}
        H = lstm.hidden_size
        rec = {k: np.empty((len(ids), H)) for k in ("i", "f", "g", "o", "c", "h")}
        h, c = np.zeros((1, H)), np.zeros((1, H))
        for t in range(len(ids)):
            h, c, cache = cells.lstm_step(x[t:t + 1], h, c, p["W_x"], p["W_h"], p["b"])
            rec["i"][t], rec["f"][t], rec["g"][t], rec["o"][t] = cache.i[0], cache.f[0], cache.g[0], cache.o[0]
            rec["c"][t], rec["h"][t] = c[0], h[0]
        layers.append(rec)
        x = rec["h"]  # the next layer reads this one's outputs
    return layers


def saturation(layers, low=0.1, high=0.9):
    """{(layer number from 1, gate): (shut, open)}: per unit, the fraction of time steps its
    gate value is below `low` and above `high`, (hidden,) arrays each, for gates i, f, o."""
    return {(k, g): ((rec[g] < low).mean(axis=0), (rec[g] > high).mean(axis=0))
            for k, rec in enumerate(layers, 1) for g in GATES}


def python_features(text):
    """Properties of Python source `text` at every character: a dict name -> (len(text),)
    float array: 'indentation' (leading spaces of the line), 'in a string', 'in a comment'
    (0 or 1), 'bracket depth' (open brackets outside strings and comments) and 'column'
    (characters since the last newline). The text must tokenize (whole modules)."""
    n = len(text)
    starts = np.concatenate([[0], np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), np.uint32)
                                                  == ord("\n")) + 1])  # offset of each line

    def offset(row_col):
        return starts[row_col[0] - 1] + row_col[1]

    string, comment, depth = np.zeros(n), np.zeros(n), np.zeros(n + 1)
    fstrings = []  # start offsets of the open f-strings (3.12 and later)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == _FSTRING_START:
            fstrings.append(offset(tok.start))
        elif tok.type == _FSTRING_END:
            start = fstrings.pop()
            if not fstrings:
                string[start:offset(tok.end)] = 1
        elif fstrings:
            continue  # inside an f-string: all of it is string
        elif tok.type == tokenize.STRING:
            string[offset(tok.start):offset(tok.end)] = 1
        elif tok.type == tokenize.COMMENT:
            comment[offset(tok.start):offset(tok.end)] = 1
        elif tok.type == tokenize.OP and tok.string in "([{)]}":
            depth[offset(tok.start)] += 1 if tok.string in "([{" else -1
    chars = np.array(list(text))
    newline = chars == "\n"
    line = np.cumsum(newline) - newline  # line number of each character (a newline ends its line)
    position = np.arange(n) - starts[line]
    lead = np.array([len(s) - len(s.lstrip(" ")) for s in text.split("\n")])
    return {"indentation": lead[line].astype(float), "in a string": string,
            "in a comment": comment, "bracket depth": np.cumsum(depth)[:n],
            "column": position.astype(float)}


def correlations(states, feature):
    """Pearson correlation of each unit's values (T, units) with a property (T,): (units,);
    0 for a unit (or a property) that never changes."""
    z = states - states.mean(axis=0)
    f = feature - feature.mean()
    denom = np.sqrt((z * z).sum(axis=0) * (f * f).sum())
    return np.divide(z.T @ f, denom, out=np.zeros(states.shape[1]), where=denom > 0)


def best_units(layers, features, key="c"):
    """For each property, the unit of any layer whose `key` values ('c' cell state, 'h'
    output) correlate most strongly with it: {name: (layer from 1, unit, r)}."""
    best = {}
    for name, f in features.items():
        rs = [correlations(rec[key], f) for rec in layers]
        k = int(np.argmax([np.abs(r).max() for r in rs]))
        u = int(np.argmax(np.abs(rs[k])))
        best[name] = (k + 1, u, float(rs[k][u]))
    return best
