"""Chapter 11's picture of the character language model: characters in, Embedding, two LSTM
layers with dropout between, the output layer tied to the embedding, softmax, next character;
the state carried from step to step, and the loss against the input shifted by one."""
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

BOXES = (  # (label, detail, colour)
    ("characters", "ids x_1 .. x_t", "0.92"),
    ("Embedding", "E: (V, D)", "#cfe2f3"),
    ("LSTM layer 1", "h, c", "#fce5cd"),
    ("dropout", "training only", "0.95"),
    ("LSTM layer 2", "h, c", "#fce5cd"),
    ("dropout", "training only", "0.95"),
    ("Linear", "logits h Eᵀ + b", "#cfe2f3"),
    ("softmax", "p(next character)", "#d9ead3"),
)


def draw_pipeline(ax=None, title="the character language model, one time step"):
    """Draw the model left to right; returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(12, 2.9), dpi=80)
    w, h, gap = 1.3, 0.8, 0.3
    xs = [k * (w + gap) for k in range(len(BOXES))]
    for x, (label, detail, colour) in zip(xs, BOXES):
        ax.add_patch(FancyBboxPatch((x, 0), w, h, boxstyle="round,pad=0.03", fc=colour, ec="0.3"))
        ax.text(x + w / 2, h * 0.62, label, ha="center", va="center", fontsize=9, weight="bold")
        ax.text(x + w / 2, h * 0.28, detail, ha="center", va="center", fontsize=7)
    for a, b in zip(xs, xs[1:]):
        ax.add_patch(FancyArrowPatch((a + w + 0.02, h / 2), (b - 0.02, h / 2), arrowstyle="-|>",
                                     mutation_scale=10, color="0.2"))
    for k in (2, 4):  # the state each LSTM layer carries to the next step
        x = xs[k]
        ax.add_patch(FancyArrowPatch((x + w * 0.8, h + 0.04), (x + w * 0.2, h + 0.04),
                                     connectionstyle="arc3,rad=1.1", arrowstyle="-|>",
                                     mutation_scale=10, color="tab:orange"))
    ax.text(xs[3] + w / 2, h + 0.55, "(h, c) carried to the next step, and from window to window",
            ha="center", fontsize=8, color="tab:orange")
    ax.add_patch(FancyArrowPatch((xs[1] + w / 2, -0.05), (xs[6] + w / 2, -0.05),
                                 connectionstyle="arc3,rad=0.12", arrowstyle="<->", ls="--",
                                 mutation_scale=10, color="tab:blue"))
    ax.text((xs[1] + xs[6] + w) / 2, -0.62, "weight tying: one matrix E, read in and written out",
            ha="center", fontsize=8, color="tab:blue")
    ax.text(xs[-1] + w / 2, -0.42, "loss: cross-entropy against\nthe next character, every step", ha="center",
            fontsize=7.5, color="tab:green")
    ax.set_xlim(-0.2, xs[-1] + w + 0.2)
    ax.set_ylim(-0.85, h + 0.8)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return ax.figure
