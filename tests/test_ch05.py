"""Chapter 05: the LSTM layer forward (cell-step widget, exercise checkers)."""

import numpy as np
import pytest

import lstm_lib as L
from lstm_lib import cells
from lstm_lib.activations import sigmoid
from lstm_lib.cells import lstm_step
from lstm_lib.course.exercises import ch05
from lstm_lib.course.widgets import layer_forward


def torch_step_right(x, h, c, w_ih, w_hh, b_ih, b_hh):
    return lstm_step(x, h, c, w_ih.T, w_hh.T, b_ih + b_hh)[:2]


def test_torch_layout_reference_is_torch(monkeypatch):
    """The checker's answer is what torch.nn.LSTM computes from those parameters."""
    torch = pytest.importorskip("torch")
    x, h, c, w_ih, w_hh, b_ih, b_hh = ch05.torch_case()
    cell = torch.nn.LSTMCell(2, 4).double()
    with torch.no_grad():
        for name, value in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(cell, name).copy_(torch.from_numpy(value))
        h_t, c_t = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    h_ref, c_ref = torch_step_right(x, h, c, w_ih, w_hh, b_ih, b_hh)
    assert np.allclose(h_t.numpy(), h_ref, atol=1e-12) and np.allclose(c_t.numpy(), c_ref, atol=1e-12)


def _with(**kw):
    return lambda x, h, c, w_ih, w_hh, b_ih, b_hh: ch05._step_with(x, h, c, w_ih.T, w_hh.T, b_ih + b_hh, **kw)


@pytest.mark.parametrize("wrong, words", [
    (lambda x, h, c, w_ih, w_hh, b_ih, b_hh: lstm_step(x, h, c, w_ih, w_hh, b_ih + b_hh)[:2], "weight_ih.T"),
    (lambda x, h, c, w_ih, w_hh, b_ih, b_hh: lstm_step(x, h, c, w_ih.T, w_hh.T, b_ih)[:2], "bias_hh is missing"),
    (lambda x, h, c, w_ih, w_hh, b_ih, b_hh: lstm_step(x, h, c, w_ih.T, w_hh.T, b_hh)[:2], "bias_ih is missing"),
    (lambda x, h, c, w_ih, w_hh, b_ih, b_hh: lstm_step(x, h, c, w_ih.T, w_hh.T, 0 * b_ih)[:2], "both biases"),
    (lambda *a: torch_step_right(*a)[::-1], "swapped"),
    (_with(order="ifog"), "i, f, g, o"),
    (_with(order="fiog"), "f, i, o, g"),
    (_with(g_act=L.sigmoid), "tanh"),
    (_with(use_o=False), "output gate"),
    (_with(use_tanh_c=False), "squash"),
    (lambda *a: (torch_step_right(*a)[0], 2 * torch_step_right(*a)[1]), "h is right but c is not"),
    (lambda *a: (torch_step_right(*a)[0] + 1, torch_step_right(*a)[1]), "c is right but h is not"),
    (lambda *a: (np.zeros((4, 3)), np.zeros((3, 4))), "shape (4, 3)"),
    (lambda *a: torch_step_right(*a)[0], "return h, c"),
    (lambda *a: undefined_name, "NameError"),  # noqa: F821
])
def test_check_torch_layout_step(wrong, words):
    assert ch05.check_torch_layout_step.verdict(torch_step_right)[0]
    ok, msg = ch05.check_torch_layout_step.verdict(wrong)
    assert not ok and words in msg, msg


def test_torch_layout_step_no_answer_yet():
    def stub(*a):
        raise NotImplementedError

    assert "no answer yet" in ch05.check_torch_layout_step.verdict(stub)[1]


def test_ch05_param_count_checker():
    assert ch05.check_param_count.verdict(5504)[0]
    assert "two bias" in ch05.check_param_count.verdict(5632)[1]
    assert "four" in ch05.check_param_count.verdict(1376)[1]
    assert "bias" in ch05.check_param_count.verdict(4 * 32 * 42)[1]
    assert "whole number" in ch05.check_param_count.verdict("many")[1]
    assert "no answer yet" in ch05.check_param_count.verdict(None)[1]


def test_cell_step_follows_the_equations():
    s = layer_forward.cell_step(x=0.7, h_prev=-0.4, c_prev=1.3, forget_bias=2.0)
    z = 0.7 * layer_forward.W_X[0] - 0.4 * layer_forward.W_H[0] + np.array([0, 2.0, 0, 0])
    assert [s[f"z_{k}"] for k in "ifgo"] == pytest.approx(z)
    assert s["i"] == pytest.approx(sigmoid(z[0])) and s["f"] == pytest.approx(sigmoid(z[1]))
    assert s["g"] == pytest.approx(np.tanh(z[2])) and s["o"] == pytest.approx(sigmoid(z[3]))
    assert s["kept"] == pytest.approx(s["f"] * 1.3) and s["written"] == pytest.approx(s["i"] * s["g"])
    assert s["c"] == pytest.approx(s["kept"] + s["written"])
    assert s["h"] == pytest.approx(s["o"] * np.tanh(s["c"]))
    h, c, _ = cells.lstm_step(np.array([[0.7]]), np.array([[-0.4]]), np.array([[1.3]]),
                              layer_forward.W_X, layer_forward.W_H, np.array([0, 2.0, 0, 0]))
    assert (s["h"], s["c"]) == pytest.approx((h[0, 0], c[0, 0]))


def test_cell_step_sliders_move_what_they_should():
    base = layer_forward.cell_step()
    # the forget bias moves only f (and through it c and h); it never touches i, g, o
    shut = layer_forward.cell_step(forget_bias=-4.0)
    assert shut["f"] < 0.1 < base["f"]
    assert (shut["i"], shut["g"], shut["o"]) == pytest.approx((base["i"], base["g"], base["o"]))
    assert abs(shut["kept"]) < abs(base["kept"])
    # the previous cell only enters through f * c_prev: the gates do not change
    other = layer_forward.cell_step(c_prev=-1.5)
    assert [other[k] for k in "ifgo"] == pytest.approx([base[k] for k in "ifgo"])
    assert other["c"] - base["c"] == pytest.approx(base["f"] * (-1.5 - 0.5))
    # a large negative input closes the input gate: almost nothing is written
    assert abs(layer_forward.cell_step(x=-3.0)["written"]) < 0.05 < abs(base["written"])


def test_cell_step_readout_and_figure():
    import matplotlib.pyplot as plt

    text = layer_forward.summary_cell_step()
    s = layer_forward.cell_step()
    assert f"{s['i']:.3f}" in text and f"{s['c']:.3f}" in text and f"{s['h']:.3f}" in text
    assert layer_forward.summary_cell_step(forget_bias=-3.0) != text
    assert layer_forward.summary_cell_step(x=2.0) != text
    fig = layer_forward.plot_cell_step()
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([s[k] for k in "ifgo"])
    plt.close(fig)


def test_cell_step_widget_wiring(monkeypatch, tiny_figure, readout_of, sliders_of):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(layer_forward, "plot_cell_step", tiny_figure)
    box = layer_forward.cell_step_widget()
    x = sliders_of(box)[0]
    before = readout_of(box)
    x.value = x.max
    assert readout_of(box) != before and x.continuous_update is False
    assert f"{layer_forward.cell_step(x=x.max)['h']:.3f}" in readout_of(box)


def test_chapter_runs_without_torch():
    """Without PyTorch the parity section prints one line and the rest of the chapter runs
    (torch is blocked in the kernel: `import torch` raises ImportError)."""
    import pathlib

    import nbformat
    from nbclient import NotebookClient

    folder = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
    nb = nbformat.read(folder / "05_lstm_forward.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell('import sys\nsys.modules["torch"] = None  # no torch'))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()  # raises on any error
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert text.count("PyTorch is not installed") == 1
    assert "agree within" not in text  # the comparisons were skipped
    assert "no answer yet" in text  # and the exercises after them ran


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "05_lstm_forward.ipynb"
    checks = [("hoisted_forward", ch05.check_hoisted_layer), ("torch_layout_step", ch05.check_torch_layout_step)]
    assert not failing_solutions(notebook, checks, lstm_step_backward=L.cells.lstm_step_backward)


# --- exercise 1: the layer with the input projection out of the loop -------------------------

def hoisted(x, W_x, W_h, b, order="ifgo", proj="right", inside=False, carry=True, bias_in_loop=False,
            time_first_out=False):
    """A learner's layer, written out, with one slip switched on at a time."""
    B, T, I = x.shape
    H = W_h.shape[0]
    if proj == "right":
        X_proj = (x.reshape(B * T, I) @ W_x + b).reshape(B, T, 4 * H)
    elif proj == "TB":
        X_proj = (x.reshape(B * T, I) @ W_x + b).reshape(T, B, 4 * H).transpose(1, 0, 2)
    elif proj == "x_transposed":
        X_proj = (x.transpose(1, 0, 2).reshape(T * B, I) @ W_x + b).reshape(B, T, 4 * H)
    h, c = np.zeros((B, H)), np.zeros((B, H))
    hs = []
    for t in range(T):
        if not carry:
            h, c = np.zeros((B, H)), np.zeros((B, H))
        z = (x[:, t] @ W_x + b if inside else X_proj[:, t]) + h @ W_h + (b if bias_in_loop else 0)
        blocks = dict(zip(order, np.split(z, 4, axis=1)))
        i, f, g, o = L.sigmoid(blocks["i"]), L.sigmoid(blocks["f"]), np.tanh(blocks["g"]), L.sigmoid(blocks["o"])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=0 if time_first_out else 1), (h, c)


def test_hoisted_reference_is_the_library_layer():
    x, W_x, W_h, b = ch05.layer_case()
    layer = L.LSTM(x.shape[2], W_h.shape[0], dtype=np.float64)
    for name, value in (("W_x", W_x), ("W_h", W_h), ("b", b)):
        layer.params[name][...] = value
    hs, (h, c) = ch05._layer_with(x, W_x, W_h, b)
    assert np.allclose(layer.forward(x), hs, atol=1e-12)
    assert np.allclose(layer.state[0], h, atol=1e-12) and np.allclose(layer.state[1], c, atol=1e-12)


def test_hoisted_layer_right_answers_pass():
    assert ch05.check_hoisted_layer.verdict(hoisted)[0]

    def with_lstm_step_math(x, W_x, W_h, b):  # einsum for the projection, a loop for the rest
        X_proj = np.einsum("bti,ig->btg", x, W_x) + b
        h = c = np.zeros((x.shape[0], W_h.shape[0]))
        hs = np.empty(x.shape[:2] + (W_h.shape[0],))
        for t in range(x.shape[1]):
            h, c, _ = cells.lstm_step(np.zeros((x.shape[0], 0)), h, c, np.zeros((0, W_x.shape[1])),
                                      W_h, X_proj[:, t])
            hs[:, t] = h
        return hs, (h, c)

    assert ch05.check_hoisted_layer.verdict(with_lstm_step_math)[0]


@pytest.mark.parametrize("slip, words", [
    ({"order": "figo"}, "f, i, g, o"),          # the gate boxes read in another order: f and i swapped
    ({"order": "fiog"}, "order f, i, o, g"),
    ({"order": "ifog"}, "order i, f, o, g"),
    ({"inside": True}, "still inside the loop"),
    ({"proj": "TB"}, "batch-major"),
    ({"proj": "x_transposed"}, "time-first"),
    ({"bias_in_loop": True}, "added twice"),
    ({"carry": False}, "not handed on"),
    ({"time_first_out": True}, "batch-first"),
])
def test_hoisted_layer_names_each_slip(slip, words):
    ok, msg = ch05.check_hoisted_layer.verdict(lambda *a: hoisted(*a, **slip))
    assert not ok and words in msg, msg


def test_hoisted_layer_other_slips():
    def lstm_step_in_loop(x, W_x, W_h, b):  # the chapter's lstm_forward: right numbers, product in the loop
        h = c = np.zeros((x.shape[0], W_h.shape[0]))
        hs = np.empty(x.shape[:2] + (W_h.shape[0],))
        for t in range(x.shape[1]):
            h, c, _ = cells.lstm_step(x[:, t], h, c, W_x, W_h, b)
            hs[:, t] = h
        return hs, (h, c)

    def no_bias(x, W_x, W_h, b):
        return hoisted(x, W_x, W_h, 0 * b)

    def indexes_batch(x, W_x, W_h, b):  # X_proj[t] on a (B, T, 4H) array: a broadcast error
        B, T, I = x.shape
        X_proj = (x.reshape(B * T, I) @ W_x + b).reshape(B, T, -1)
        return hoisted(x, W_x, W_h, b) if X_proj[1] + np.zeros((B, 16)) is None else None

    cases = [(lstm_step_in_loop, "5 matrix products"), (no_bias, "b is missing"),
             (indexes_batch, "X_proj[:, t]"), (lambda *a: hoisted(*a)[0], "return hs, (h, c)"),
             (lambda *a: (hoisted(*a)[0], (np.zeros((3, 4)), np.zeros((3, 4)))), "final state")]
    for wrong, words in cases:
        ok, msg = ch05.check_hoisted_layer.verdict(wrong)
        assert not ok and words in msg, (words, msg)
    assert "no answer yet" in ch05.check_hoisted_layer.verdict(lambda *a: (_ for _ in ()).throw(NotImplementedError))[1]


def test_torch_layout_step_names_the_drawn_order():
    """A learner who reads the blocks f, i, g, o gets the gate order named, not a distance."""
    ok, msg = ch05.check_torch_layout_step.verdict(_with(order="figo"))
    assert not ok and "order f, i, g, o" in msg and "input gate i" in msg, msg

