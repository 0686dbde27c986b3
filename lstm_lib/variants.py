"""LSTM variants: the LSTM with one part removed, coupled or added (chapter 14).

Each variant is the readable `reference.ReferenceLSTM` (same sequence loop, same backward
through time, same initialisation) with a different cell, described by a `VariantSpec`. One
step of the whole family, each departure from the plain LSTM in brackets:

    z = x W_x + h_prev W_h + b          one (batch, H) block per gate the variant has
    [peepholes]  z_i += p_i * c_prev ;  z_f += p_f * c_prev
    f = sigmoid(z_f)                    [no forget gate: f = 1]
    i = sigmoid(z_i)                    [CIFG: i = 1 - f]   [no input gate: i = 1]
    g = tanh(z_g)                       [no input activation: g = z_g]
    c = f * c_prev + i * g
    [peepholes]  z_o += p_o * c         (the output gate looks at the new cell)
    o = sigmoid(z_o)                    [no output gate: o = 1]
    h = o * tanh(c)                     [no output activation: h = o * c]

With no switch set this is `cells.lstm_step` (the tests hold `VariantLSTM` equal to
`lstm.LSTM` and to torch.nn.LSTM). Parameters: W_x (input, k*H), W_h (H, k*H), b (k*H,) with
k the number of gate blocks, in the order of `spec.gates`; peephole variants add the
diagonal weights p_i, p_f, p_o, each (H,). The blocks a variant keeps are initialised exactly
as lstm.LSTM's (same generator, same draws), so variants built with the same seed differ
only in what they remove.
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import sigmoid_grad, tanh_grad
from .reference import ReferenceLSTM
from .seeding import get_rng

ALL_GATES = "ifgo"  # PyTorch's block order, as in lstm.LSTM


def sigmoid(z):
    """1 / (1 + exp(-z)) as 0.5 * tanh(z / 2) + 0.5: the same function, never overflows, and
    several times faster on small arrays than activations.sigmoid (as lstm.LSTM computes it)."""
    return 0.5 * np.tanh(0.5 * z) + 0.5


@dataclass(frozen=True)
class VariantSpec:
    """Which LSTM this is: the gate blocks that have weights and four switches."""

    gates: str = "ifgo"  # the blocks in W_x, W_h, b, in this order; a missing i, f or o is 1
    peepholes: bool = False  # i, f read c_{t-1}; o reads c_t (diagonal weights p_i, p_f, p_o)
    coupled: bool = False  # CIFG: i = 1 - f (needs "f" and no "i" in gates)
    input_activation: bool = True  # g = tanh(z_g); else g = z_g
    output_activation: bool = True  # h = o * tanh(c); else h = o * c

    def __post_init__(self):
        if "g" not in self.gates or any(k not in ALL_GATES for k in self.gates):
            raise ValueError(f"gates must hold 'g' and only letters of {ALL_GATES!r}, got {self.gates!r}")
        if self.coupled and ("i" in self.gates or "f" not in self.gates):
            raise ValueError("a coupled (CIFG) cell has a forget gate and no input gate of its own")

    @property
    def peephole_names(self):
        """Names of the peephole weights: one per gate that has weights and reads the cell."""
        return tuple(f"p_{k}" for k in "ifo" if k in self.gates) if self.peepholes else ()


class VariantStepCache(NamedTuple):
    """What one variant step keeps for its backward (a missing gate is stored as ones)."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    c_prev: np.ndarray  # (batch, H)
    i: np.ndarray  # input gate (or 1 - f, or ones)
    f: np.ndarray  # forget gate (or ones)
    g: np.ndarray  # candidate c~
    o: np.ndarray  # output gate (or ones)
    c: np.ndarray  # the new cell state
    a: np.ndarray  # what the output gate multiplies: tanh(c), or c itself


def variant_step(x, h_prev, c_prev, params, spec):
    """One step of the cell `spec` describes: returns h, c and a VariantStepCache."""
    H = h_prev.shape[1]
    z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]  # (batch, k*H)
    zk = {k: z[:, n * H:(n + 1) * H] for n, k in enumerate(spec.gates)}  # gate -> (batch, H)
    if spec.peepholes:
        for k in "if":
            if k in zk:
                zk[k] = zk[k] + params[f"p_{k}"] * c_prev  # gates look at the old cell
    ones = np.ones_like(c_prev)
    f = sigmoid(zk["f"]) if "f" in zk else ones
    if spec.coupled:
        i = 1 - f  # write exactly as much as is forgotten
    else:
        i = sigmoid(zk["i"]) if "i" in zk else ones
    g = np.tanh(zk["g"]) if spec.input_activation else zk["g"]
    c = f * c_prev + i * g  # (batch, H)
    if "o" in zk:
        o = sigmoid(zk["o"] + params["p_o"] * c if spec.peepholes else zk["o"])
    else:
        o = ones
    a = np.tanh(c) if spec.output_activation else c
    return o * a, c, VariantStepCache(x, h_prev, c_prev, i, f, g, o, c, a)


def variant_gates_backward(dh, dc, cache, params, spec, peephole_grads=None):
    """Backward through one variant step's gates and cell, from the gradients arriving at its
    h and c: returns dz (batch, k*H) in the order of spec.gates, and dc_prev. The peephole
    weights' gradients of this step are added into `peephole_grads` (name -> (H,))."""
    dzk = {}
    if "o" in spec.gates:
        dzk["o"] = dh * cache.a * sigmoid_grad(cache.o)
    da = tanh_grad(cache.a) if spec.output_activation else 1.0  # da/dc
    dc = dc + dh * cache.o * da  # the cell gets gradient from h and from the next step
    if spec.peepholes and "o" in dzk:
        dc = dc + dzk["o"] * params["p_o"]  # ... and through the output gate's peephole
    di, df = dc * cache.g, dc * cache.c_prev
    if spec.coupled:
        df = df - di  # i = 1 - f: f acts through i too
    if "f" in spec.gates:
        dzk["f"] = df * sigmoid_grad(cache.f)
    if "i" in spec.gates:
        dzk["i"] = di * sigmoid_grad(cache.i)
    dg = dc * cache.i
    dzk["g"] = dg * tanh_grad(cache.g) if spec.input_activation else dg
    dc_prev = dc * cache.f  # along the highway
    if spec.peepholes:
        for k in "if":
            if k in dzk:
                dc_prev = dc_prev + dzk[k] * params[f"p_{k}"]
                if peephole_grads is not None:
                    peephole_grads[f"p_{k}"] += (dzk[k] * cache.c_prev).sum(axis=0)
        if "o" in dzk and peephole_grads is not None:
            peephole_grads["p_o"] += (dzk["o"] * cache.c).sum(axis=0)
    return np.concatenate([dzk[k] for k in spec.gates], axis=1), dc_prev


class VariantLSTM(ReferenceLSTM):
    """An LSTM variant as a batch-first sequence layer: forward(x (batch, time, input), h0=None,
    c0=None) -> (batch, time, hidden); backward(dh, dh_T=None, dc_T=None) -> dx, fills `grads`.

    The class attribute `spec` says which variant; this base class, with the default spec, is
    the plain LSTM (no peepholes) computed by the variant code. Subclasses only set `spec`.
    """

    spec = VariantSpec()
    label = "vanilla"

    def __init__(self, input_size, hidden_size, forget_bias=1.0, dtype=np.float32, rng=None):
        rng = rng or get_rng()
        super().__init__(input_size, hidden_size, forget_bias=forget_bias, dtype=dtype, rng=rng)
        H = hidden_size
        cols = np.concatenate([np.arange(H) + ALL_GATES.index(k) * H for k in self.spec.gates])
        for name in ("W_x", "W_h", "b"):
            self._add_param(name, np.ascontiguousarray(self.params[name][..., cols]))
        k = 1.0 / np.sqrt(H)
        for name in self.spec.peephole_names:
            self._add_param(name, rng.uniform(-k, k, H).astype(dtype))
        self._peephole_grads = None

    def step(self, x_t, h, c):
        return variant_step(x_t, h, c, self.params, self.spec)

    def gates_backward(self, dh, dc, cache):
        return variant_gates_backward(dh, dc, cache, self.params, self.spec, self._peephole_grads)

    def backward(self, dh, dh_T=None, dc_T=None):
        """dh: (batch, time, hidden) gradient w.r.t. the outputs; returns dx. The peephole
        weights' gradients are summed over the steps alongside the matrices'."""
        self._peephole_grads = {n: np.zeros(self.hidden_size) for n in self.spec.peephole_names}
        dx = super().backward(dh, dh_T, dc_T)
        for name, g in self._peephole_grads.items():
            self.grads[name] = g.astype(self.dtype)
        return dx

    def gate_traces(self):
        """The gates and the cell of every step of the last forward: dict name -> (batch, time, H)
        for 'i', 'f', 'g', 'o', 'c' (a missing gate shows as ones)."""
        caches = self._need_cache()
        return {k: np.stack([getattr(s, k) for s in caches], axis=1) for k in "ifgoc"}


class PeepholeLSTM(VariantLSTM):
    """Peepholes (Gers & Schmidhuber 2000): the gates see the cell state itself, through one
    weight per unit: i and f read c_{t-1}, o reads the new c_t."""

    spec = VariantSpec(peepholes=True)
    label = "peepholes"


class CIFGLSTM(VariantLSTM):
    """Coupled input and forget gate: i = 1 - f. One gate fewer; writing and forgetting are
    tied, so the cell can only write as much as it forgets."""

    spec = VariantSpec(gates="fgo", coupled=True)
    label = "CIFG"


class NoForgetGateLSTM(VariantLSTM):
    """No forget gate, f = 1 (the LSTM of 1997): the cell keeps everything it is given and can
    only lower its content by writing a negative candidate."""

    spec = VariantSpec(gates="igo")
    label = "NFG"


class NoInputGateLSTM(VariantLSTM):
    """No input gate, i = 1: every candidate is written in full."""

    spec = VariantSpec(gates="fgo")
    label = "NIG"


class NoOutputGateLSTM(VariantLSTM):
    """No output gate, o = 1: h = tanh(c), the cell is always shown."""

    spec = VariantSpec(gates="ifg")
    label = "NOG"


class NoOutputActivationLSTM(VariantLSTM):
    """No output activation: h = o * c, so h is as unbounded as the cell."""

    spec = VariantSpec(output_activation=False)
    label = "NOAF"


class NoInputActivationLSTM(VariantLSTM):
    """No input activation: the candidate is linear, g = z_g (not squashed into [-1, 1])."""

    spec = VariantSpec(input_activation=False)
    label = "NIAF"


VARIANTS = {cls.label: cls for cls in (VariantLSTM, PeepholeLSTM, CIFGLSTM, NoForgetGateLSTM,
                                       NoInputGateLSTM, NoOutputGateLSTM, NoOutputActivationLSTM,
                                       NoInputActivationLSTM)}


def make_variant(label, input_size, hidden_size, **kwargs):
    """The variant layer named `label` (a key of VARIANTS), e.g. make_variant('CIFG', 2, 16)."""
    if label not in VARIANTS:
        raise ValueError(f"unknown variant {label!r}; choose one of {list(VARIANTS)}")
    return VARIANTS[label](input_size, hidden_size, **kwargs)
