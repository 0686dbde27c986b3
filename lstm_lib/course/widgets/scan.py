"""Chapter 15 widgets: the parallel scan's tree of combines for any length, with its work and
depth and the rounds it needs on P processors, computed live; the loop against the parallel
scans as the sequence grows (from the stored measurements of experiments/scan_speed.py); and
what a gate value does to the closed form of the recurrence in linear space and in log space.
"""
import numpy as np

from ... import scan as S
from ...scan import scan_log, scan_loop

# --- the scan's schedule: which position combines with which, level by level -------------------

SCHEDULES = ("hillis_steele", "blelloch")


def _blelloch_levels(positions):
    """Levels of (src, dst) pairs of the recursive Blelloch scan (lstm_lib.scan._prefix) on
    the given original positions: pair neighbours, recurse on the pairs, fill in between."""
    if len(positions) == 1:
        return []
    n, m = len(positions) // 2, (len(positions) - 1) // 2
    up = [(positions[2 * i], positions[2 * i + 1]) for i in range(n)]
    down = [(positions[2 * i - 1], positions[2 * i]) for i in range(1, m + 1)]
    return [up] + _blelloch_levels(positions[1:2 * n:2]) + ([down] if down else [])


def combine_schedule(method, T):
    """The scan's combines as levels: a list of levels, each a list of (src, dst) pairs meaning
    "position dst becomes (what src holds) o (what dst holds)", all pairs of a level at once.
    Work = the number of pairs, depth = the number of levels."""
    if method == "hillis_steele":
        levels, d = [], 1
        while d < T:
            levels.append([(t - d, t) for t in range(d, T)])
            d *= 2
        return levels
    if method == "blelloch":
        return _blelloch_levels(list(range(T)))
    raise ValueError(f"method must be one of {SCHEDULES}, got {method!r}")


def run_schedule(levels, a, b):
    """Run a schedule on coefficients a, b (time on axis 0): every level reads all its inputs
    before it writes. Returns B, which holds h_t (with h_0 = 0) once the schedule is done."""
    A, B = np.array(a, dtype=float), np.array(b, dtype=float)
    for level in levels:
        src, dst = (np.array(v) for v in zip(*level))
        A[dst], B[dst] = S.combine((A[src], B[src]), (A[dst], B[dst]))
    return B


def rounds_on(levels, processors):
    """Parallel rounds on `processors` processors: each level takes ceil(its combines / P)."""
    return sum(-(-len(level) // processors) for level in levels)


def count_combines(method, T):
    """(work, depth) of the library's scan `method` on T steps, counted while it runs: every
    single combine, and every vectorised call that combines at least one pair (one round)."""
    original, count = S.combine, {"work": 0, "depth": 0}

    def counting(left, right):
        count["work"] += np.size(left[0])
        count["depth"] += np.size(left[0]) > 0
        return original(left, right)

    S.combine = counting
    try:
        S.scan(np.full(T, 0.9), np.ones(T), method=method)
    finally:
        S.combine = original
    return count["work"], count["depth"]


def tree_summary(T=16, method="blelloch", log2_P=2, seed=0):
    levels = combine_schedule(method, T)
    P = 2 ** log2_P
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.1, 1, T), rng.standard_normal(T)
    err = np.max(np.abs(run_schedule(levels, a, b) - scan_loop(a, b)[0]))
    work = sum(len(level) for level in levels)
    return (f"T = {T}, {LABELS[method]}: work <b>{work}</b> combines, depth <b>{len(levels)}</b> "
            f"levels (the loop: work {T}, depth {T}). On P = {P} processors: the scan takes "
            f"<b>{rounds_on(levels, P)}</b> rounds, the loop still {T}. The drawn combines, run "
            f"on random gates, give the loop's h within {max(err, 1e-16):.0e}.")


def plot_tree(T=16, method="blelloch", log2_P=2, seed=0):
    """Left: the schedule drawn (positions across, levels down, one arrow per combine).
    Right: rounds on P processors for P = 1 .. 1024, loop and both scans, this P marked."""
    import matplotlib.pyplot as plt

    levels = combine_schedule(method, T)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.4), dpi=72,
                                   gridspec_kw={"width_ratios": [1.6, 1]})
    for k, level in enumerate(levels, start=1):
        for src, dst in level:
            ax1.annotate("", xy=(dst, -k), xytext=(src, 1 - k),
                         arrowprops={"arrowstyle": "->", "color": COLORS[method], "lw": 0.7})
    for k in range(len(levels) + 1):
        ax1.plot(range(T), [-k] * T, "o", ms=3, color="0.3")
    ax1.set_yticks([-k for k in range(len(levels) + 1)],
                   ["input"] + [str(k) for k in range(1, len(levels) + 1)])
    ax1.set_ylabel("level")
    ax1.set_xlabel("position t")
    work = sum(len(level) for level in levels)
    ax1.set_title(f"{LABELS[method]}, T = {T}: work {work}, depth {len(levels)}", fontsize=10)
    Ps = 2 ** np.arange(11)
    ax2.plot(Ps, [T] * len(Ps), "o-", ms=3, color=COLORS["loop"], label="loop")
    for m in SCHEDULES:
        ax2.plot(Ps, [rounds_on(combine_schedule(m, T), P) for P in Ps], "o-", ms=3,
                 color=COLORS[m], label=LABELS[m])
    ax2.axvline(2 ** log2_P, color="0.5", ls=":", lw=1)
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log", base=2)
    ax2.set_xlabel("processors P")
    ax2.set_ylabel("rounds")
    ax2.set_title("rounds on P processors", fontsize=10)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def tree_widget():
    """Change the length T, the scan and the number of processors P: the figure draws that scan's
    combines level by level, and the readout gives its work, its depth and the rounds it needs on
    P processors, against the loop's T."""
    import ipywidgets as w

    from . import interact, slider

    method = w.Dropdown(options=[(LABELS[m], m) for m in SCHEDULES], value="blelloch",
                        description="scan")
    return interact(plot_tree, tree_summary, T=slider("length T", 2, 32, 1, 16, integer=True),
                    method=method, log2_P=slider("log2 of processors P", 0, 10, 1, 2, integer=True))


LABELS = {"loop": "loop", "hillis_steele": "Hillis-Steele scan", "blelloch": "Blelloch scan",
          "log": "log-space (cumsum)", "LSTM": "LSTM layer"}
COLORS = {"loop": "tab:red", "hillis_steele": "tab:orange", "blelloch": "tab:green",
          "log": "tab:purple", "LSTM": "tab:blue"}


def load_speed():
    from ..results import load_result

    return load_result("scan_speed.json")


def speed_table(study, batch, hidden, key="forward_s"):
    """{variant: (lengths, times in seconds, forward steps)} for one size from the stored study."""
    table = {}
    for run in study["runs"]:
        if run["batch"] == batch and run["hidden"] == hidden:
            rows = run["rows"]
            table[run["variant"]] = (np.array([r["T"] for r in rows]), np.array([r[key] for r in rows]),
                                     np.array([r["steps"]["forward"] for r in rows]))
    if not table:
        sizes = sorted({(r["batch"], r["hidden"]) for r in study["runs"]})
        raise ValueError(f"no measurements for batch {batch}, hidden {hidden}; stored: {sizes}")
    return table


def _size(size):
    return {0: (1, 16), 1: (8, 64)}[size]


def speed_summary(log2_T=10, size=0, study=None):
    study = study or load_speed()
    batch, hidden = _size(size)
    table = speed_table(study, batch, hidden)
    T = 2 ** log2_T
    parts = []
    for variant, (Ts, times, steps) in table.items():
        i = int(np.flatnonzero(Ts == T)[0])
        parts.append(f"{LABELS[variant]}: {1e3 * times[i]:.2f} ms, {steps[i]} steps")
    loop = table["loop"][1][table["loop"][0] == T][0]
    best = min((v for v in table if v not in ("loop", "LSTM")),
               key=lambda v: table[v][1][table[v][0] == T][0])
    ratio = loop / table[best][1][table[best][0] == T][0]
    verdict = (f"the {LABELS[best]} is {ratio:.1f} times as fast as the loop" if ratio > 1 else
               f"the loop is {1 / ratio:.1f} times as fast as the best scan ({LABELS[best]})")
    return (f"T = {T}, batch {batch}, hidden {hidden}, forward pass (stored, processor time): "
            + "; ".join(parts) + f". <b>Here {verdict}.</b>")


def plot_speed(log2_T=10, size=0, study=None):
    """Left: forward time against T for every variant (log-log). Right: Python-level steps."""
    import matplotlib.pyplot as plt

    study = study or load_speed()
    batch, hidden = _size(size)
    table = speed_table(study, batch, hidden)
    T = 2 ** log2_T
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.5, 3.2), dpi=72)
    for variant, (Ts, times, steps) in table.items():
        ax1.plot(Ts, 1e3 * times, "o-", ms=3, color=COLORS[variant], label=LABELS[variant])
        ax2.plot(Ts, steps, "o-", ms=3, color=COLORS[variant], label=LABELS[variant])
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.axvline(T, color="0.5", lw=1, ls=":")
        ax.set_xlabel("sequence length T")
    ax1.set_ylabel("forward pass (ms)")
    ax1.set_title(f"batch {batch}, hidden {hidden}: time (stored)", fontsize=10)
    ax2.set_ylabel("Python-level steps")
    ax2.set_title("steps: T (loops), ~log2 T (tree scans), 2 (log space)", fontsize=10)
    ax1.legend(fontsize=7)
    fig.tight_layout()
    return fig


def speed_widget():
    """Pick a sequence length and a size: the readout gives the stored forward-pass times of the
    loop, the parallel scans, the log-space form and the LSTM layer at that length, and says
    whether the best scan or the loop is faster there."""
    import ipywidgets as w

    from . import interact, slider

    size = w.Dropdown(options=[("batch 1, hidden 16", 0), ("batch 8, hidden 64", 1)], value=0,
                      description="size")
    return interact(plot_speed, speed_summary,
                    log2_T=slider("log2 of the length T", 6, 12, 1, 10, integer=True), size=size)


# --- the closed form in linear space and in log space -----------------------------------------

def closed_forms(gate=0.5, T=2000):
    """h_t = gate * h_{t-1} + b_t with b_t = (1 - gate)(1 + sin(2 pi t / 250) / 2) (h follows a
    slow wave around 1), three ways: the loop; the closed form h_t = A_t sum_k b_k / A_k with
    A_t = gate^t in linear space; the same sum in log space (lstm_lib.scan.scan_log). Returns
    a dict of arrays over t and the first step at which the linear-space form is no longer
    finite (None if it stays finite)."""
    t = np.arange(1, T + 1)
    a = np.full(T, float(gate))
    b = (1 - a) * (1 + 0.5 * np.sin(2 * np.pi * t / 250))
    loop, _ = scan_loop(a, b)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        A = np.cumprod(a)
        linear = A * np.cumsum(b / A)
    log_h, _ = scan_log(np.log(a), np.log(b))
    bad = np.flatnonzero(~np.isfinite(linear))
    return {"t": t, "loop": loop, "linear": linear, "log": np.exp(log_h), "A": A,
            "breaks_at": int(bad[0]) + 1 if bad.size else None}


def gate_summary(gate=0.5, T=2000):
    r = closed_forms(gate, T)
    where = (f"breaks at step <b>{r['breaks_at']}</b>, where the sum of b<sub>k</sub> / A<sub>k</sub> "
             f"passes the largest float (A<sub>t</sub> = a<sup>t</sup> is then about "
             f"{r['A'][r['breaks_at'] - 1]:.0e})" if r["breaks_at"] else
             f"stays finite for all {T} steps shown (a<sup>{T}</sup> = {r['A'][-1]:.0e})")
    ok = np.max(np.abs(r["log"] - r["loop"])) < 1e-12
    return (f"gate a = {gate:.2f}: the linear-space closed form {where}; the log-space form "
            f"{'equals the loop (within 1e-12) at every step' if ok else 'differs from the loop'}")


def plot_gate(gate=0.5, T=2000):
    import matplotlib.pyplot as plt

    r = closed_forms(gate, T)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.5, 3), dpi=72)
    ax1.semilogy(r["t"], np.where(r["A"] > 0, r["A"], np.nan), color="tab:blue")
    ax1.axhline(np.finfo(float).tiny, color="0.5", ls=":", lw=1)
    ax1.text(0, np.finfo(float).tiny * 1e8, "smallest normal float", color="0.4", fontsize=8)
    ax1.set_xlim(0, T)
    ax1.set_xlabel("step t")
    ax1.set_title(f"A_t = a^t, the product of the gates (a = {gate:.3f})", fontsize=10)
    ax2.plot(r["t"], r["loop"], color="0.75", lw=6, label="loop")
    ax2.plot(r["t"], np.where(np.isfinite(r["linear"]), r["linear"], np.nan), color="tab:red",
             lw=2.5, label="closed form, linear space")
    ax2.plot(r["t"], r["log"], color="tab:purple", lw=1, ls="--", label="closed form, log space")
    if r["breaks_at"]:
        ax2.axvline(r["breaks_at"], color="tab:red", ls=":", lw=1)
        ax2.text(r["breaks_at"], 1.54, " linear space: inf from here", color="tab:red", fontsize=8)
    ax2.set_ylim(0.4, 1.6)
    ax2.set_xlabel("step t")
    ax2.set_title("h_t three ways", fontsize=10)
    ax2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def gate_widget():
    """Move the gate a and the length T: the closer a is to 1, the later the linear-space closed
    form overflows (near 1 it stays finite over the steps shown), while the log-space form stays
    on the loop's curve at every step."""
    from . import interact, slider

    return interact(plot_gate, gate_summary,
                    gate=slider("gate a", 0.3, 0.99, 0.01, 0.5, fmt=".2f"),
                    T=slider("steps T", 200, 4000, 100, 2000, integer=True))
