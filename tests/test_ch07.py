"""Chapter 07: training (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course.exercises import ch07
from lstm_lib.course.widgets import training as tw


def test_sine_batch_shapes_and_shift():
    x, y = tw.sine_batch(n=4, T=10)
    assert x.shape == y.shape == (4, 10, 1)
    assert np.allclose(x[:, 1:], y[:, :-1])


def test_short_run_trains_diverges_and_clipping_rescues():
    good = tw.short_run(0.3, 0.0, steps=30)
    assert good["diverged_at"] is None and len(good["loss"]) == 30
    assert good["loss"][-1] < good["loss"][0]
    wild = tw.short_run(4.0, 0.0, steps=30)
    assert wild["diverged_at"] is not None
    clipped = tw.short_run(4.0, 0.25, steps=30)
    assert clipped["diverged_at"] is None and np.isfinite(clipped["loss"]).all()
    assert len(clipped["grad_norm"]) == 30


def test_summary_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    text = tw.summary_short_run(0.6, 0.0, steps=30)
    assert "diverged at step" in text and "no clipping" in text
    text = tw.summary_short_run(-0.5, 1.0, steps=30)
    assert "lr = 0.316" in text and "clip at 1" in text and "after 30 steps" in text
    fig = tw.plot_short_run(0.6, 0.0, steps=30)
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_training_widget_builds():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    box = tw.training_widget(steps=20)
    assert "lstm-widget" in box._dom_classes
    controls = box.children[0].children
    assert [c.description for c in controls] == ["log10 learning rate", "clip threshold (0 = off)"]
    readout = box.children[1]
    before = readout.value
    controls[0].value = 0.6
    controls[1].value = 0.0
    assert readout.value != before and "diverged" in readout.value


def test_ch07_clip_checker():
    def good(grads, m):
        L.clip_grad_norm(grads, m)
        return grads

    assert ch07.check_clip.verdict(good)[0]
    per_array = ch07.check_clip.verdict(lambda gs, m: [g * min(1, m / np.linalg.norm(g)) for g in gs])
    assert not per_array[0] and "ONE norm" in per_array[1]
    assert "np.clip" in ch07.check_clip.verdict(lambda gs, m: [np.clip(g, -m, m) for g in gs])[1]
    always = ch07.check_clip.verdict(
        lambda gs, m: [g * m / np.sqrt(sum((h * h).sum() for h in gs)) for g in gs])
    assert not always[0] and "unchanged" in always[1]


def test_ch07_momentum_checker():
    assert ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p - lr * (mu * v + g), mu * v + g))[0]
    msg = ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p + mu * v - lr * g, mu * v - lr * g))[1]
    assert "lr is folded" in msg
    msg = ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p - lr * g, mu * v + g))[1]
    assert "plain gradient" in msg
    msg = ch07.check_momentum_step.verdict(lambda p, g, v, lr, mu: (p - lr * (v + mu * g), v + mu * g))[1]
    assert "OLD velocity" in msg
