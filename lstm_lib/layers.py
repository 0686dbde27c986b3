"""Feed-forward layers: Linear, Embedding, Dropout."""
import numpy as np

from .base import Layer
from .seeding import get_rng
from .validation import as_float_array, check_int_targets


class Linear(Layer):
    """y = x @ W + b on the last axis; x is (..., in_features), y is (..., out_features).

    W is (in_features, out_features), initialised uniform in +-1/sqrt(in_features)
    (as torch.nn.Linear); b starts at zero.
    """

    def __init__(self, in_features, out_features, dtype=np.float32, rng=None):
        super().__init__()
        rng = rng or get_rng()
        k = 1.0 / np.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self._add_param("W", rng.uniform(-k, k, (in_features, out_features)).astype(dtype))
        self._add_param("b", np.zeros(out_features, dtype))
        self._cache = None

    def forward(self, x):
        x = as_float_array(x, "x", self.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear expects x of shape (..., {self.in_features}), "
                             f"got {tuple(x.shape)}")
        self._cache = x
        return x @ self.params["W"] + self.params["b"]  # (..., out)

    def backward(self, dy):
        x = self._need_cache()
        dy = np.asarray(dy, self.dtype)
        expected = x.shape[:-1] + (self.out_features,)
        if dy.shape != expected:
            raise ValueError(f"Linear.backward expects dy of shape {expected}, got {dy.shape}")
        x2 = x.reshape(-1, self.in_features)
        dy2 = dy.reshape(-1, self.out_features)
        np.matmul(x2.T, dy2, out=self.grads["W"])
        np.sum(dy2, axis=0, out=self.grads["b"])
        return dy @ self.params["W"].T  # (..., in)


class Embedding(Layer):
    """Look-up table: integer ids (...) -> vectors (..., dim). W is (num_embeddings, dim), N(0, 1)."""

    def __init__(self, num_embeddings, dim, dtype=np.float32, rng=None):
        super().__init__()
        rng = rng or get_rng()
        self.num_embeddings, self.dim = num_embeddings, dim
        self._add_param("W", rng.standard_normal((num_embeddings, dim)).astype(dtype))
        self._cache = None

    def forward(self, ids):
        ids = check_int_targets(ids, self.num_embeddings, "ids")
        self._cache = ids
        return self.params["W"][ids]  # (..., dim)

    def backward(self, dout):
        """Fills grads["W"] (rows of repeated ids add up); ids have no gradient, so returns None."""
        ids = self._need_cache()
        dW = self.grads["W"]
        dW[...] = 0
        np.add.at(dW, ids.reshape(-1), np.asarray(dout, self.dtype).reshape(-1, self.dim))


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability p and scale the rest
    by 1/(1-p); in evaluation mode, the identity."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng
        self._cache = None

    def forward(self, x):
        x = np.asarray(x)
        if not self.training or self.p == 0.0:
            self._cache = 1.0
            return x
        rng = self.rng or get_rng()
        mask = (rng.random(x.shape) >= self.p).astype(x.dtype) / (1.0 - self.p)
        self._cache = mask
        return x * mask

    def backward(self, dout):
        return dout * self._need_cache()


class LastStep(Layer):
    """Keep only the last time step: (batch, time, features) -> (batch, features).
    For many-to-one models: a sequence in, one prediction out."""

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, x):
        self._cache = np.shape(x)
        return x[:, -1]

    def backward(self, dout):
        shape = self._need_cache()
        dx = np.zeros(shape, np.asarray(dout).dtype)
        dx[:, -1] = dout
        return dx
