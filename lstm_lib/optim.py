"""Optimisers with torch.optim's update rules and defaults, and global-norm clipping.

An optimiser takes a layer (or a list of layers): anything with `params` and `grads` dicts.
`step()` updates the `params` arrays in place from the current `grads`. What an optimiser
remembers per parameter (Momentum's velocity, Adam's two moments) is in `opt.state`, keyed by
the model's own parameter names: `opt.state[name]` for every `name` in `model.params`. For a
list of layers the keys are 'index.name', as Sequential names its layers' parameters.
"""
import numpy as np


def _pairs(model):
    """(key, param, grad) for every parameter: keys as model.params has them ('i.name' for a list)."""
    if isinstance(model, (list, tuple)):
        return [(f"{i}.{k}", m.params[k], m.grads[k]) for i, m in enumerate(model) for k in m.params]
    params, grads = model.params, model.grads
    return [(k, params[k], grads[k]) for k in params]


class Optimizer:
    def __init__(self, model, lr):
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.model, self.lr = model, lr
        self.state = {}

    def step(self):
        for key, p, g in _pairs(self.model):
            self._update(key, p, g)

    def zero_grad(self):
        for _, _, g in _pairs(self.model):
            g[...] = 0


class SGD(Optimizer):
    """p -= lr * g  (torch.optim.SGD with momentum=0)."""

    def _update(self, key, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """SGD with momentum, as torch.optim.SGD(momentum=0.9): the velocity stores motion,
    v = mu * v + g (v = g on the first step), then p -= lr * v."""

    def __init__(self, model, lr, momentum=0.9):
        super().__init__(model, lr)
        self.momentum = momentum

    def _update(self, key, p, g):
        v = self.state.get(key)
        if v is None:
            v = self.state[key] = g.copy()
        else:
            v *= self.momentum
            v += g
        p -= self.lr * v


class Adam(Optimizer):
    """Adam as torch.optim.Adam: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, bias-corrected."""

    def __init__(self, model, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(model, lr)
        self.betas, self.eps = betas, eps
        self.t = 0

    def step(self):
        self.t += 1
        super().step()

    def _update(self, key, p, g):
        b1, b2 = self.betas
        if key not in self.state:
            self.state[key] = (np.zeros_like(p), np.zeros_like(p))
        m, v = self.state[key]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        denom = np.sqrt(v) / np.sqrt(bc2) + self.eps
        p -= (self.lr / bc1) * m / denom


def global_norm(grads):
    """sqrt of the sum of squares of every gradient array."""
    arrays = _grad_arrays(grads)
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in arrays)))


def _grad_arrays(grads):
    if isinstance(grads, dict):
        return list(grads.values())
    if hasattr(grads, "grads"):
        return list(grads.grads.values())
    return [a for item in grads for a in _grad_arrays(item)] if isinstance(grads, (list, tuple)) \
        else [grads]


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so their global norm is at most `max_norm`, in place,
    as torch.nn.utils.clip_grad_norm_. `grads`: a dict, a layer, or a list of them.
    Returns the norm before clipping."""
    total = global_norm(grads)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in _grad_arrays(grads):
            g *= coef
    return total
