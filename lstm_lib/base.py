"""The layer protocol every part of lstm_lib follows."""
import numpy as np


class Layer:
    """A layer holds `params` and `grads` (dicts with the same keys, name -> ndarray).

    `forward` computes the output and remembers what `backward` needs; `backward` takes the
    gradient of the loss with respect to the output, writes the parameter gradients into
    `grads` (overwriting them, never adding) and returns the gradient with respect to the input.
    """

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True

    def _add_param(self, name, value):
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    @property
    def dtype(self):
        return next(iter(self.params.values())).dtype if self.params else None

    def train(self):
        """Training mode (dropout active)."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode (dropout off)."""
        self.training = False
        return self

    def zero_grad(self):
        for g in self.grads.values():
            g[...] = 0

    def astype(self, dtype):
        """Convert parameters and gradients to `dtype` in place; returns the layer."""
        for k in self.params:
            self.params[k] = self.params[k].astype(dtype)
            self.grads[k] = self.grads[k].astype(dtype)
        self._cache = None
        return self

    def reset_state(self):
        """Drop carried recurrent state (no-op for layers without state)."""

    def num_params(self):
        return sum(p.size for p in self.params.values())

    def _need_cache(self):
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise ValueError(f"{type(self).__name__}.backward() called before forward(): "
                             f"run forward(x) first")
        return cache

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def __repr__(self):
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


class Sequential(Layer):
    """Layers applied one after another; `params`/`grads` keys are 'index.name'."""

    def __init__(self, *layers):
        self.layers = list(layers)
        self.training = True

    @property
    def params(self):
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, l in enumerate(self.layers) for k, v in l.grads.items()}

    @property
    def dtype(self):
        return next((l.dtype for l in self.layers if l.dtype is not None), None)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self):
        for l in self.layers:
            l.train()
        self.training = True
        return self

    def eval(self):
        for l in self.layers:
            l.eval()
        self.training = False
        return self

    def astype(self, dtype):
        for l in self.layers:
            l.astype(dtype)
        return self

    def reset_state(self):
        for l in self.layers:
            l.reset_state()

    def zero_grad(self):
        for l in self.layers:
            l.zero_grad()

    def __repr__(self):
        inner = ",\n  ".join(repr(l) for l in self.layers)
        return f"Sequential(\n  {inner}\n)"
