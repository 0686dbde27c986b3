"""Initial weights of the recurrent layers, written once: the fast layers (`recurrent`) and the
readable ReferenceLSTM (`reference`) both draw theirs here, so the reference initialises
itself without building the layer it checks."""
import numpy as np


def orthogonal(n, rng, dtype):
    """A random (n, n) orthogonal matrix (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.sign(np.diag(r))).astype(dtype)


def recurrent_init(input_size, hidden_size, gates, rng, dtype):
    """W_x (input, gates*H) uniform in +-1/sqrt(H) (as torch.nn), W_h (H, gates*H) one random
    orthogonal (H, H) block per gate, b (gates*H,) zeros; drawn from `rng` in that order."""
    H = hidden_size
    k = 1.0 / np.sqrt(H)
    return {"W_x": rng.uniform(-k, k, (input_size, gates * H)).astype(dtype),
            "W_h": np.concatenate([orthogonal(H, rng, dtype) for _ in range(gates)], 1),
            "b": np.zeros(gates * H, dtype)}
