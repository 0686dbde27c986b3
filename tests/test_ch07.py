"""Chapter 07: training (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course import training_tasks as tasks
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


def test_echo_and_first_sign_tasks():
    x, y = tasks.echo_streams(3, 30, delay=4, seed=1)
    assert x.shape == y.shape == (3, 30, 1) and set(np.unique(x)) == {-1.0, 1.0}
    assert np.array_equal(y[:, 4:], x[:, :-4]) and not y[:, :4].any()
    x, y = tasks.first_sign_task(5, 12, seed=2)
    assert x.shape == (5, 12, 1) and y.shape == (5, 1)
    assert np.array_equal(x[:, 0, 0], y[:, 0]) and set(np.unique(y)) == {-1.0, 1.0}


def adam_step(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def test_ch07_adam_checker_accepts_the_rule():
    assert ch07.check_adam_step.verdict(adam_step)[0]


@pytest.mark.parametrize("switches, message", ch07.ADAM_MISTAKES)
def test_ch07_adam_checker_names_each_mistake(switches, message):
    def wrong(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        return ch07._adam(p, g, m, v, t, lr, beta1, beta2, eps, **switches)

    ok, msg = ch07.check_adam_step.verdict(wrong)
    assert not ok and message in msg


def test_ch07_adam_checker_other_answers():
    assert "three arrays" in ch07.check_adam_step.verdict(lambda p, g, m, v, t, lr, *a: p)[1]
    msg = ch07.check_adam_step.verdict(lambda p, g, m, v, t, lr, *a: (p - lr * g, m, v))[1]
    assert "off by up to" in msg
    assert "raised ZeroDivisionError" in ch07.check_adam_step.verdict(lambda *a: 1 / 0)[1]


def tbptt_epoch(lstm, readout, loss_fn, optimizer, X, Y, window):
    h = c = None
    losses = []
    for s in range(0, X.shape[1], window):
        x, y = X[:, s:s + window], Y[:, s:s + window]
        loss = loss_fn.forward(readout.forward(lstm.forward(x, h, c)), y)
        lstm.backward(readout.backward(loss_fn.backward()))
        optimizer.step()
        h, c = lstm.state
        losses.append(loss)
    return losses


def test_ch07_tbptt_checker_accepts_the_loop_and_a_stateful_layer():
    assert ch07.check_tbptt_epoch.verdict(tbptt_epoch)[0]

    def stateful(lstm, readout, loss_fn, optimizer, X, Y, window):
        lstm.stateful = True
        lstm.reset_state()
        try:
            losses = []
            for s in range(0, X.shape[1], window):
                loss = loss_fn.forward(readout.forward(lstm.forward(X[:, s:s + window])), Y[:, s:s + window])
                lstm.backward(readout.backward(loss_fn.backward()))
                optimizer.step()
                losses.append(loss)
            return losses
        finally:
            lstm.stateful = False
            lstm.reset_state()

    assert ch07.check_tbptt_epoch.verdict(stateful)[0]


@pytest.mark.parametrize("mistake", list(ch07.TBPTT_MISTAKES))
def test_ch07_tbptt_checker_names_each_mistake(mistake):
    ok, msg = ch07.check_tbptt_epoch.verdict(lambda *a: ch07._wrong_epoch(*a, mistake))
    assert not ok and msg == ch07.TBPTT_MISTAKES[mistake]


def test_ch07_tbptt_checker_other_mistakes():
    def drop_last(lstm, readout, loss_fn, optimizer, X, Y, window):
        return tbptt_epoch(lstm, readout, loss_fn, optimizer, X[:, :48], Y[:, :48], window)

    assert "last, shorter window" in ch07.check_tbptt_epoch.verdict(drop_last)[1]

    def step_first(lstm, readout, loss_fn, optimizer, X, Y, window):  # stale gradients
        h = c = None
        losses = []
        for s in range(0, X.shape[1], window):
            optimizer.step()
            loss = loss_fn.forward(readout.forward(lstm.forward(X[:, s:s + window], h, c)), Y[:, s:s + window])
            lstm.backward(readout.backward(loss_fn.backward()))
            h, c = lstm.state
            losses.append(loss)
        return losses

    ok, msg = ch07.check_tbptt_epoch.verdict(step_first)
    assert not ok and "window 2 of epoch 1" in msg and "earlier windows agree" in msg
    assert "one per window" in ch07.check_tbptt_epoch.verdict(lambda *a: 0.5)[1]


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "07_training.ipynb"
    checks = [("my_adam_step", ch07.check_adam_step), ("my_clip", ch07.check_clip),
              ("my_tbptt_epoch", ch07.check_tbptt_epoch)]
    assert not failing_solutions(notebook, checks)
