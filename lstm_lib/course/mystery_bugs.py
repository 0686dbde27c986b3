"""Hidden broken layers for chapter 08's "find the bug" exercise.

Reading this file gives the answers away: run the chapter's tools on the layers instead,
and come back here afterwards. Each layer subclasses `lstm_lib.reference.ReferenceLSTM`
and changes exactly one of its small methods (step, gates_backward, input_grad, carry,
new_grad); the exercise asks which one.
"""
import numpy as np

from ..activations import sigmoid_grad, tanh_grad
from ..reference import ReferenceLSTM


class MysteryA(ReferenceLSTM):
    """Bug in step: the output is o * c; the tanh of the cell is missing (the backward still
    differentiates h = o * tanh(c))."""

    def step(self, x_t, h, c):
        _, c_new, cache = super().step(x_t, h, c)
        return cache.o * c_new, c_new, cache  # h = o * c: no tanh


class MysteryB(ReferenceLSTM):
    """Bug in gates_backward: the candidate g = tanh(z_g) is differentiated as a sigmoid."""

    def gates_backward(self, dh, dc, cache):
        do = dh * cache.tanh_c
        dc = dc + dh * cache.o * tanh_grad(cache.tanh_c)
        di, df, dg = dc * cache.g, dc * cache.c_prev, dc * cache.i
        dz = np.concatenate([di * sigmoid_grad(cache.i), df * sigmoid_grad(cache.f),
                             dg * sigmoid_grad(cache.g), do * sigmoid_grad(cache.o)], axis=1)
        return dz, dc * cache.f


class MysteryC(ReferenceLSTM):
    """Bug in new_grad: a weight gradient starts from the previous backward's gradient instead
    of zeros (gradients never reset between calls), so the first backward is right and every
    later one adds to the last."""

    def new_grad(self, param):
        name = next(k for k, p in self.params.items() if p is param)
        return self.grads[name].copy()


class MysteryD(ReferenceLSTM):
    """Bug in input_grad: dx sums the parts of three gate blocks; the output gate's is missing."""

    def input_grad(self, dz):
        H = self.hidden_size
        return dz[:, :3 * H] @ self.params["W_x"][:, :3 * H].T  # (B, 3H) @ (3H, I)


MYSTERIES = {"A": MysteryA, "B": MysteryB, "C": MysteryC, "D": MysteryD}
