"""Chapter 11 widget: what the sampling temperature does to the next-character distribution
and to generated text.

The plain functions take the model's logits for one position (and the characters of the
vocabulary), so they are tested without a model or a browser.
"""
import html

import numpy as np

from ...text import temperature_probs


def show_char(c):
    """A printable label for a character: spaces, newlines and tabs made visible."""
    return {" ": "␣", "\n": "\\n", "\t": "\\t"}.get(c, c)


def top_choices(logits, chars, temperature, k=12):
    """The k most likely next characters at this temperature: (labels, probabilities), most
    likely first. The order does not depend on the temperature (it never reorders)."""
    p = temperature_probs(logits, temperature)
    order = np.argsort(-np.asarray(logits, np.float64), kind="stable")[:k]
    return [show_char(chars[i]) for i in order], p[order]


def entropy_bits(p):
    """Entropy of a distribution in bits (0 for a one-hot)."""
    p = np.asarray(p, np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log2(nz)).sum())


def plot_temperature(logits, chars, temperature=1.0, k=12):
    import matplotlib.pyplot as plt

    labels, p = top_choices(logits, chars, temperature, k)
    _, p1 = top_choices(logits, chars, 1.0, k)
    fig, ax = plt.subplots(figsize=(7, 2.8), dpi=80)
    x = np.arange(len(labels))
    ax.bar(x, p1, color="none", edgecolor="0.4", ls="--", label="temperature 1 (the model's own)")
    ax.bar(x, p, color="tab:blue", alpha=0.7, label=f"temperature {temperature:g}")
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title(f"next character, the {len(labels)} most likely: entropy "
                 f"{entropy_bits(temperature_probs(logits, temperature)):.2f} bits")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_temperatures(logits, chars, temperatures=(0.5, 1.0, 2.0), k=12):
    """The k most likely next characters at several temperatures, side by side, each with its
    entropy in the legend: a low temperature piles the probability on the first, a high one
    spreads it out, the order never changes."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.8), dpi=80)
    width = 0.8 / len(temperatures)
    for j, T in enumerate(temperatures):
        labels, p = top_choices(logits, chars, T, k)
        x = np.arange(len(labels)) + (j - (len(temperatures) - 1) / 2) * width
        ent = entropy_bits(temperature_probs(logits, T))
        ax.bar(x, p, width, label=f"temperature {T:g}" + (" (the model's own)" if T == 1 else "")
               + f": entropy {ent:.2f} bits")
    ax.set_xticks(np.arange(len(labels)))
    ax.set_xticklabels(labels)
    ax.set_ylim(0, min(1.0, 1.25 * max(temperature_probs(logits, T).max() for T in temperatures)))
    ax.set_ylabel("probability")
    ax.set_title(f"next character, the {len(labels)} most likely at each temperature")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def temperature_summary(logits, chars, temperature=1.0, sample_text=None):
    p = temperature_probs(logits, temperature)
    best = int(np.argmax(p))
    text = (f"temperature {temperature:g}: the most likely character "
            f"'{html.escape(show_char(chars[best]))}' gets <b>{p[best]:.1%}</b>; entropy "
            f"<b>{entropy_bits(p):.2f}</b> bits")
    if sample_text is not None:
        text += f"<pre>{html.escape(sample_text)}</pre>"
    return text


def temperature_widget(logits, chars, generate=None, k=12):
    """Move the temperature: a low one piles the probability onto the likeliest next character (at
    0, all of it), a high one spreads it out, and the order of the bars never changes. The readout
    adds a sample written at that temperature.

    `generate(temperature) -> str` (optional) makes the sample; `k`: how many characters to draw."""
    from . import interact, slider

    def summary(temperature):
        sample = generate(temperature) if generate else None
        return temperature_summary(logits, chars, temperature, sample)

    return interact(lambda temperature: plot_temperature(logits, chars, temperature, k), summary,
                    temperature=slider("temperature", 0.0, 2.0, 0.1, 1.0))
