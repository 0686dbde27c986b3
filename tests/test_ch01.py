"""Chapter 01: RNN gradients (widget compute functions, exercise checkers)."""
import numpy as np
import pytest

import lstm_lib as L
from lstm_lib.course.exercises import ch01
from lstm_lib.course.widgets import rnn_gradients as rg


def test_recurrent_matrix_has_requested_spectral_radius():
    for rho in (0.5, 1.0, 2.0):
        assert rg.spectral_radius(rg.recurrent_matrix(16, rho)) == pytest.approx(rho)


def test_matrix_part_grows_by_radius_per_step():
    for rho in (0.8, 1.0, 1.2):
        norms = rg.gradient_norms(rho, 80, hidden=16, nonlinear=False)
        assert norms.shape == (81,) and norms[-1] == 1.0
        assert rg.growth_factor(norms) == pytest.approx(rho, abs=0.02)
    # raising the radius raises the gradient that reaches h_0
    assert rg.gradient_norms(1.2, 80, 16, nonlinear=False)[0] > 1e3
    assert rg.gradient_norms(0.8, 80, 16, nonlinear=False)[0] < 1e-3


def test_tanh_rnn_vanishes_at_small_radius_and_explodes_at_large():
    small = rg.gradient_norms(0.9, 60, hidden=16)
    large = rg.gradient_norms(3.0, 100, hidden=32)
    assert small[0] < 1e-6 and large[0] > 1e6
    # longer sequences: the vanishing gradient gets smaller still
    assert rg.gradient_norms(0.9, 120, hidden=16)[0] < small[0]


def test_gradient_norms_match_the_rnn_layer():
    H, T, rho = 8, 20, 1.3
    rng = np.random.default_rng(1)
    rnn = L.RNN(1, H, dtype=np.float64)
    rnn.params["W_h"][...] = rg.recurrent_matrix(H, rho, 0)
    rnn.params["W_x"][...] = rng.standard_normal((1, H)) * 0.5
    x = rng.standard_normal((T, 1, 1)).reshape(1, T, 1)
    u = rng.standard_normal((1, H))
    out = rnn.forward(x)
    d = np.zeros_like(out)
    d[:, -1] = u / np.linalg.norm(u)
    rnn.backward(d)
    assert np.linalg.norm(rnn.dstate0[0]) == pytest.approx(rg.gradient_norms(rho, T, hidden=H)[0], rel=1e-8)


def test_rnn_gradient_plot_and_summary():
    import matplotlib.pyplot as plt

    fig = rg.plot_gradient_norms(1.5, 30, hidden=8)
    assert len(fig.axes[0].lines) == 3
    plt.close(fig)
    a, b = rg.summary_gradient_norms(0.9, 50), rg.summary_gradient_norms(2.5, 50)
    assert "0.90" in a and "2.50" in b and a != b


def test_rnn_gradient_widget_builds(monkeypatch, tiny_figure):
    monkeypatch.setattr(rg, "plot_gradient_norms", tiny_figure)
    pytest.importorskip("ipywidgets")
    box = rg.rnn_gradient_widget()
    controls = box.children[0].children
    readout = box.children[1]
    before = readout.value
    controls[0].value = 2.0
    assert readout.value != before and "2.00" in readout.value
    assert all(c.continuous_update is False for c in controls)


def relu_product_right(hs, W_h):
    P = np.eye(W_h.shape[0])
    for h_k in hs[::-1]:
        P = P @ (np.diag((h_k > 0).astype(float)) @ W_h.T)
    return P


def test_relu_reference_is_the_finite_difference_jacobian():
    """The checker's answer is the true dh_T/dh_0 of its ReLU RNN (central differences on h_0)."""
    W_x, W_h, b, x, h0 = ch01.relu_network()
    H, eps = len(h0), 1e-6
    P_num = np.zeros((H, H))
    for j in range(H):
        e = np.zeros(H)
        e[j] = eps
        P_num[:, j] = (ch01.relu_forward(W_x, W_h, b, x, h0 + e)[-1]
                       - ch01.relu_forward(W_x, W_h, b, x, h0 - e)[-1]) / (2 * eps)
    hs, _ = ch01.relu_states()
    assert np.allclose(relu_product_right(hs, W_h), P_num, atol=1e-8)
    assert np.abs(P_num).max() > 0.1  # not a degenerate all-zero product


def _shifted(hs, W_h):
    return relu_product_right(np.vstack([np.zeros(hs.shape[1]), hs[:-1]]), W_h)


RELU_WRONG = [
    (lambda hs, W: ch01.jacobian_product(hs, W, lambda h: 1 - h ** 2), "tanh's derivative"),
    (lambda hs, W: ch01.jacobian_product(hs, W, lambda h: h), "h_k itself"),
    (lambda hs, W: np.linalg.matrix_power(W.T, len(hs)), "no ReLU derivative"),
    (lambda hs, W: ch01.jacobian_product(hs, W, lambda h: (h >= 0).astype(float)), "no ReLU derivative"),
    (lambda hs, W: relu_product_right(hs[::-1], W), "reverse order"),
    (lambda hs, W: ch01.jacobian_product(hs, W, lambda h: (h > 0) * 1.0, transpose_w=True), "W_h.T belongs"),
    (lambda hs, W: relu_product_right(hs, W).T, "transposed"),
    (lambda hs, W: relu_product_right(hs[1:], W), "one Jacobian short"),
    (lambda hs, W: relu_product_right(hs[:-1], W), "one Jacobian short"),
    (_shifted, "not from h_(k-1)"),
    (lambda hs, W: 2 * relu_product_right(hs, W), "off by"),
    (lambda hs, W: np.eye(3), "shape (3, 3)"),
    (lambda hs, W: undefined_name, "NameError"),  # noqa: F821
]


@pytest.mark.parametrize("wrong, words", RELU_WRONG)
def test_check_relu_jacobian_product(wrong, words):
    assert ch01.check_relu_jacobian_product.verdict(relu_product_right)[0]
    ok, msg = ch01.check_relu_jacobian_product.verdict(wrong)
    assert not ok and words in msg, msg


def test_relu_mistakes_are_told_apart():
    """Each typical mistake gives its own matrix on the checker's sequence, different from the
    right one, so each message can only come from its own mistake."""
    hs, W_h = ch01.relu_states()
    mats = [relu_product_right(hs, W_h)] + [w(hs, W_h) for w, _ in RELU_WRONG[:10]]
    for a in range(len(mats)):
        for b in range(a + 1, len(mats)):
            same_mistake = RELU_WRONG[a - 1][1] == RELU_WRONG[b - 1][1] if a else False
            if not same_mistake:
                assert not ch01.close(mats[a], mats[b]), (a, b)


@pytest.mark.parametrize("answer, words", [
    (np.array([[1.5, 1.0], [-1.5, -1.2]]), "below 0.5"),  # section 6's matrix: rho 0.72
    (np.array([[1.2, 1.0], [-1.08, -0.9]]), "W_h[0, 0]"),  # rho 0.3, explodes when unit 2 is saturated
    (np.array([[0.3, 0.1], [0.1, 0.2]]), "symmetric"),
    (np.array([[0.3, 0.5], [0.0, 0.4]]), "larger than 1"),
    (np.eye(3) * 0.1, "shape (3, 3)"),
    (np.array([[np.nan, 0.0], [0.0, 0.0]]), "NaN"),
])
def test_check_hidden_explosion(answer, words):
    assert ch01.check_hidden_explosion.verdict(np.array([[1.2, 1.2], [-1.2, -1.2]]))[0]
    assert ch01.check_hidden_explosion.verdict(np.array([[1.3, 1.0], [-1.69, -1.3]]))[0]
    ok, msg = ch01.check_hidden_explosion.verdict(answer)
    assert not ok and words in msg, msg
    assert "no answer yet" in ch01.check_hidden_explosion.verdict(None)[1]


def test_hidden_explosion_solution_grows_in_a_real_product():
    """What the checker accepts really explodes: (diag(0, 1) W_h^T)^k grows like |W_h[1, 1]|^k
    while the powers of W_h vanish."""
    W = np.array([[1.2, 1.2], [-1.2, -1.2]])
    J = ch01.SATURATED_UNIT_1 @ W.T
    g = np.array([[0.0, 1.0]]) @ np.linalg.matrix_power(J, 30)
    assert np.linalg.norm(g) == pytest.approx(1.2 ** 30 * np.sqrt(2))
    assert np.allclose(np.linalg.matrix_power(W, 2), 0)


def test_folded_solutions_pass_their_checkers():
    """Each solution shown (folded) in the notebook passes its checker."""
    import pathlib

    from lstm_lib.course.exercises.solutions import failing_solutions

    notebook = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "01_rnn_gradients.ipynb"
    checks = [("relu_jacobian_product", ch01.check_relu_jacobian_product),
              ("W_h_mine", ch01.check_hidden_explosion)]
    assert not failing_solutions(notebook, checks, lstm_step_backward=L.cells.lstm_step_backward)


def test_rnn_drawing_hands_h_on_and_the_gradient_back():
    """The chapter's drawing: one box per step, h_0..h_T forward, one red gradient edge per step."""
    import matplotlib.pyplot as plt

    from lstm_lib.course.widgets.rnn_gradients import draw_rnn_unrolled

    for steps in (2, 3):
        fig = draw_rnn_unrolled(steps=steps)
        gids = {a.get_gid() for a in fig.findobj() if a.get_gid()}
        assert {f"box:{k}" for k in range(1, steps + 1)} <= gids
        assert {f"edge:h_{k}" for k in range(steps + 1)} <= gids
        assert {g for g in gids if g.startswith("edge:grad:")} == {f"edge:grad:{k}" for k in range(1, steps + 1)}
        assert any("J_k" in t.get_text() and "W_h^T" in t.get_text() for t in fig.axes[0].texts)
        plt.close(fig)
