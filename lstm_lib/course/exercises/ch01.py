"""Self-checks for chapter 01, RNNs and their gradients."""
import numpy as np

from ..selfcheck import Mistake, expect_array, expect_close, expect_finite, expect_shape, self_check

# --- helpers the checkers of chapters 01-04 share ----------------------------------------

def call(fn, *args, name=None):
    """Call the learner's function; any exception except NotImplementedError becomes a Mistake."""
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise Mistake(f"expected a function, got {type(fn).__name__}: pass the function itself, "
                      f"without calling it")
    try:
        return fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        raise Mistake(f"{name} raised {type(exc).__name__}: {exc}")


def close(a, b, atol=1e-8):
    """Same shape and values (used to recognise a typical wrong answer)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol, rtol=1e-6))


@self_check("J = diag(1 - h_t**2) @ W_h.T, the Jacobian dh_t/dh_{t-1} of one RNN step")
def check_step_jacobian(step_jacobian):
    """`step_jacobian(h_t, W_h)` returns the (H, H) matrix J[i, j] = d h_t[i] / d h_{t-1}[j]
    for h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)."""
    rng = np.random.default_rng(7)
    H = 4
    h_t = np.tanh(rng.standard_normal(H))
    W_h = rng.standard_normal((H, H))
    d = 1 - h_t ** 2
    want = np.diag(d) @ W_h.T
    J = expect_shape(call(step_jacobian, h_t, W_h, name="step_jacobian"), (H, H), "J")
    expect_finite(J, "J")
    if close(J, want):
        return
    if close(J, want.T):
        raise Mistake("J is transposed: row i should hold the derivatives of h_t[i], "
                      "i.e. np.diag(1 - h_t**2) @ W_h.T")
    if close(J, W_h.T) or close(J, W_h):
        raise Mistake("J has no tanh derivative in it: scale the rows of W_h.T by "
                      "tanh'(a_t) = 1 - h_t**2")
    if close(J, np.diag(d) @ W_h):
        raise Mistake("you used W_h where W_h.T belongs: h_t[i] depends on h_{t-1}[j] through "
                      "W_h[j, i], so J = np.diag(1 - h_t**2) @ W_h.T")
    if close(J, np.diag(1 - np.tanh(h_t) ** 2) @ W_h.T):
        raise Mistake("you applied tanh to h_t again: h_t is already tanh(a_t), so "
                      "tanh'(a_t) = 1 - h_t**2")
    if close(J, np.diag(1 - h_t) @ W_h.T):
        raise Mistake("the tanh derivative is 1 - h_t**2 (squared), not 1 - h_t")
    if close(J, d[None, :] * W_h) or close(J, W_h * d[:, None]):
        raise Mistake("the factor (1 - h_t**2) scales the wrong rows or the wrong matrix: "
                      "use np.diag(1 - h_t**2) @ W_h.T")
    expect_close(J, want, "J", hint="expected np.diag(1 - h_t**2) @ W_h.T")


@self_check("the spectral radius is the largest absolute eigenvalue")
def check_spectral_radius(spectral_radius):
    """`spectral_radius(W)` returns max |eigenvalue| of W as one number."""
    # eigenvalues 0.5 and -0.9 (triangular), largest singular value about 2.3
    W1 = np.array([[0.5, 2.0], [0.0, -0.9]])
    # a rotation by 60 degrees scaled by 0.8: eigenvalues 0.8 e^{+-i pi/3}
    a = np.pi / 3
    W2 = 0.8 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    for W, want, name in ((W1, 0.9, "W1"), (W2, 0.8, "W2")):
        got = call(spectral_radius, W, name="spectral_radius")
        if np.iscomplexobj(got):
            raise Mistake(f"spectral_radius({name}) returned a complex number {got}: "
                          f"eigenvalues can be complex, take their absolute value (np.abs)")
        got = expect_array(got, f"spectral_radius({name})")
        if got.size != 1:
            raise Mistake(f"spectral_radius({name}) returned {got.size} numbers: return one, "
                          f"the largest |eigenvalue| (np.max(np.abs(...)))")
        got = float(got.reshape(()))
        if np.isclose(got, want):
            continue
        if np.isclose(got, np.linalg.norm(W, 2)):
            raise Mistake(f"spectral_radius({name}) = {got:.3f} is the largest singular value "
                          f"(the 2-norm), not the largest |eigenvalue| {want}: use np.linalg.eigvals")
        if np.isclose(got, np.linalg.norm(W)):
            raise Mistake(f"spectral_radius({name}) = {got:.3f} is the Frobenius norm: use "
                          f"the eigenvalues, np.linalg.eigvals")
        if np.isclose(got, np.max(np.linalg.eigvals(W).real)):
            raise Mistake(f"spectral_radius({name}) = {got:.3f} is the largest eigenvalue, "
                          f"not the largest |eigenvalue| {want}: a negative or complex "
                          f"eigenvalue grows or shrinks the gradient just as well, take np.abs")
        raise Mistake(f"spectral_radius({name}) = {got:.4g}, expected {want}")
