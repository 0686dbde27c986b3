"""The training loop: learning, truncated BPTT, history, divergence, reproducibility."""
import numpy as np
import pytest

import lstm_lib as L


def sine_task(n=32, T=12):
    t = np.linspace(0, 4 * np.pi, n * T + 1)
    s = np.sin(t).astype(np.float32)
    return s[:-1].reshape(n, T, 1), s[1:].reshape(n, T, 1)


def model(H=8):
    return L.Sequential(L.LSTM(1, H), L.Linear(H, 1))


def test_fit_learns_and_records_history():
    L.seed(0)
    X, Y = sine_task()
    m = model()
    hist = L.fit(m, L.MSELoss(), L.Adam(m, lr=0.02), X, Y, epochs=15, batch_size=8, progress=False)
    assert len(hist.loss) == 15 * 4 and len(hist.grad_norm) == 60 and len(hist.epoch_loss) == 15
    assert hist.diverged is None
    assert hist.epoch_loss[-1] < 0.1 * hist.epoch_loss[0]


def test_bptt_carries_state_and_restores_flag():
    L.seed(0)
    streams = np.sin(np.linspace(0, 20, 4 * 101)).reshape(4, 101, 1).astype(np.float32)
    X, Y = streams[:, :-1], streams[:, 1:]
    m = model()
    hist = L.fit(m, L.MSELoss(), L.Adam(m, lr=0.02), X, Y, epochs=5, bptt=25, progress=False,
                 val=(X, Y))
    assert len(hist.loss) == 5 * 4 and len(hist.val_loss) == 5
    assert m.layers[0].stateful is False and m.layers[0]._carry is None


def test_bptt_windows_see_the_carried_state():
    """With bptt the second window starts from the first window's final state, not zeros."""
    X = np.random.default_rng(0).standard_normal((2, 10, 1)).astype(np.float32)
    lay = L.LSTM(1, 3)
    seen = []

    class Spy(L.Layer):
        def forward(self, x):
            seen.append(lay.state)
            return lay.forward(x)

        def backward(self, d):
            return lay.backward(d)

        @property
        def layers(self):
            return [lay]

    spy = Spy()
    spy.params, spy.grads = lay.params, lay.grads
    L.fit(spy, L.MSELoss(), L.SGD(spy, 0.01), X, np.zeros((2, 10, 3), np.float32), bptt=5,
          progress=False)
    assert seen[1] is not None and np.abs(seen[1][0]).sum() > 0


def test_divergence_stops_cleanly_and_keeps_last_good_params(capsys):
    L.seed(0)
    X, Y = sine_task()
    Y = Y * 1e3
    m = L.Sequential(L.RNN(1, 8), L.Linear(8, 1))
    hist = L.fit(m, L.MSELoss(), L.SGD(m, lr=50.0), X, Y, epochs=20, batch_size=8, progress=False)
    assert hist.diverged is not None
    step = len(hist.loss) + 1
    assert f"diverged at step {step}" in hist.diverged
    assert "lower the learning rate (now 50; try 5)" in hist.diverged
    assert "clip gradients (clip=1.0)" in hist.diverged
    assert hist.diverged in capsys.readouterr().out
    assert all(np.isfinite(p).all() for p in m.params.values())
    assert np.isfinite(L.MSELoss().forward(m.forward(X), Y))
    with pytest.raises(L.TrainingDiverged, match="clip gradients harder"):
        L.fit(m, L.MSELoss(), L.SGD(m, lr=1e15), X, Y, epochs=5, clip=1e6, progress=False,
              on_divergence="raise")
    assert capsys.readouterr().out == ""  # raised, not also printed


def test_same_seed_same_result():
    def run():
        L.seed(7)
        X, Y = sine_task()
        m = model()
        h = L.fit(m, L.MSELoss(), L.Adam(m, 0.01), X, Y, epochs=2, batch_size=8, progress=False)
        return h.loss, m.params
    (l1, p1), (l2, p2) = run(), run()
    assert l1 == l2
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    L.seed(8)
    assert not np.array_equal(model().params["0.W_x"], p1["0.W_x"])


def test_seed_seeds_torch():
    torch = pytest.importorskip("torch")
    L.seed(3)
    a = torch.rand(3)
    L.seed(3)
    assert torch.equal(a, torch.rand(3))


def test_progress_in_terminal(capsys):
    X, Y = sine_task(8)
    m = model()
    L.fit(m, L.MSELoss(), L.SGD(m, 0.01), X, Y, epochs=2, batch_size=4, progress=True)
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and out.endswith("\n")
    L.fit(m, L.MSELoss(), L.SGD(m, 0.01), X, Y, epochs=1, progress=False)
    assert capsys.readouterr().out == ""
