"""Self-checks for chapter 01, RNNs and their gradients."""
import numpy as np

from ..selfcheck import Mistake, call, close, expect_close, expect_finite, expect_shape, self_check


def relu_network(seed=24, T=5, H=4):
    """Weights W_x (2, H), W_h (H, H), b (H,), inputs x (T, 2) and a start state h0 (H,) of a
    small ReLU RNN h_t = max(0, x_t W_x + h_{t-1} W_h + b)."""
    rng = np.random.default_rng(seed)
    W_x, W_h = rng.standard_normal((2, H)), rng.standard_normal((H, H)) * 0.8
    b, x = rng.standard_normal(H) * 0.3, rng.standard_normal((T, 2))
    return W_x, W_h, b, x, np.abs(rng.standard_normal(H))


def relu_forward(W_x, W_h, b, x, h0):
    """The states h_1..h_T, shape (T, H)."""
    h, hs = h0, []
    for x_t in x:
        h = np.maximum(0.0, x_t @ W_x + h @ W_h + b)
        hs.append(h)
    return np.array(hs)


def relu_states():
    """(hs, W_h) of the checker's sequence: hs (T, H) holds h_1..h_T; 2 or 3 of the 4 units are
    active at every step, in 4 different patterns, so each typical mistake gives another matrix."""
    W_x, W_h, b, x, h0 = relu_network()
    return relu_forward(W_x, W_h, b, x, h0), W_h


def jacobian_product(hs, W_h, derivative, order="last_left", transpose_w=False):
    """J_T ... J_1 with J_k = diag(derivative(h_k)) W_h^T (or a typical mistake of it)."""
    Wt = W_h if transpose_w else W_h.T
    P = np.eye(W_h.shape[0])
    steps = hs[::-1] if order == "last_left" else hs
    for h_k in steps:
        P = P @ (np.diag(derivative(h_k)) @ Wt)
    return P


@self_check("dh_T/dh_0 = J_T ... J_1 with J_k = diag(h_k > 0) W_h^T: a ReLU unit passes the "
            "gradient whole or not at all")
def check_relu_jacobian_product(relu_jacobian_product):
    """`relu_jacobian_product(hs, W_h)`: hs (T, H) holds h_1..h_T of a ReLU RNN; return the
    (H, H) matrix dh_T/dh_0."""
    hs, W_h = relu_states()
    H = W_h.shape[0]
    active = lambda h: (h > 0).astype(float)
    want = jacobian_product(hs, W_h, active)
    P = expect_shape(call(relu_jacobian_product, hs.copy(), W_h.copy(), name="relu_jacobian_product"),
                     (H, H), "dh_T/dh_0")
    expect_finite(P, "dh_T/dh_0")
    if close(P, want):
        return
    wrong = [
        (jacobian_product(hs, W_h, lambda h: 1 - h ** 2),
         "you used the tanh's derivative 1 - h**2; the ReLU's is 1 where h_k > 0 and 0 elsewhere"),
        (jacobian_product(hs, W_h, lambda h: h),
         ("you multiplied by h_k itself; the ReLU's derivative is a step, 1 where h_k > 0 and 0 "
         "elsewhere: np.diag((h_k > 0).astype(float))")),
        (jacobian_product(hs, W_h, lambda h: np.ones_like(h)),
         ("there is no ReLU derivative in your product (h >= 0 is always true for a ReLU output): "
         "multiply each W_h.T by np.diag((h_k > 0).astype(float))")),
        (jacobian_product(hs, W_h, active, order="first_left"),
         ("the factors are in reverse order: dh_T/dh_0 = J_T J_(T-1) ... J_1, the last step's "
         "Jacobian on the left")),
        (jacobian_product(hs, W_h, active, transpose_w=True),
         "you used W_h where W_h.T belongs: h_k[i] depends on h_(k-1)[j] through W_h[j, i]"),
        (want.T, "your matrix is transposed: row i should hold the derivatives of h_T[i]"),
        (jacobian_product(hs[1:], W_h, active),
         "one Jacobian short: there are T steps from h_0 to h_T, one per row of hs"),
        (jacobian_product(hs[:-1], W_h, active),
         "one Jacobian short: there are T steps from h_0 to h_T, one per row of hs"),
        (jacobian_product(np.vstack([np.zeros(H), hs[:-1]]), W_h, active),
         "the mask of step k comes from h_k, the state the step produces, not from h_(k-1)"),
    ]
    for value, message in wrong:
        if close(P, value):
            raise Mistake(message)
    expect_close(P, want, "dh_T/dh_0", hint="expected the product of np.diag((h_k > 0)) @ W_h.T, "
                                             "last step on the left")


SATURATED_UNIT_1 = np.diag([0.0, 1.0])  # tanh' of unit 1 is 0, of unit 2 is 1


@self_check("spectral radius below 0.5, yet with unit 1 saturated the gradient grows at every "
            "step: the spectral radius of W_h bounds nothing once the tanh factors differ")
def check_hidden_explosion(W_h):
    """W_h: a 2 x 2 matrix with spectral radius < 0.5 whose Jacobian diag(0, 1) W_h^T (unit 1
    saturated) grows the gradient: |W_h[1, 1]| > 1."""
    W = expect_shape(W_h, (2, 2), "W_h")
    expect_finite(W, "W_h")
    rho = float(np.max(np.abs(np.linalg.eigvals(W))))
    if rho >= 0.5:
        raise Mistake(f"the spectral radius of your W_h is {rho:.3g}; it must be below 0.5 "
                      f"(the trace W_h[0, 0] + W_h[1, 1] and the determinant set the eigenvalues)")
    factor = abs(W[1, 1])  # the one eigenvalue of diag(0, 1) W_h^T that is not 0
    if factor > 1:
        return
    if abs(W[0, 0]) > 1:
        raise Mistake(f"|W_h[0, 0]| = {abs(W[0, 0]):.3g} is the factor when unit 2 is saturated "
                      f"(section 6); with unit 1 saturated the Jacobian diag(0, 1) W_h.T keeps only "
                      f"W_h[:, 1], and its factor per step is |W_h[1, 1]| = {factor:.3g}")
    if np.allclose(W, W.T):
        raise Mistake("a symmetric W_h cannot do it: for a symmetric (normal) matrix every entry is "
                      "at most the largest singular value, which equals the spectral radius < 0.5")
    raise Mistake(f"with unit 1 saturated the Jacobian is diag(0, 1) W_h.T, which multiplies the "
                  f"gradient's second component by W_h[1, 1] = {W[1, 1]:.3g} per step: make "
                  f"|W_h[1, 1]| larger than 1")
