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

The full-gate-recurrence cell (FGR, `FullGateRecurrenceLSTM`) is the one variant that needs
more state than (h, c): its gates i, f, o also read the previous step's i, f, o, so it has its
own step (`fgr_step`, `fgr_gates_backward`) and its own loop over time.

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
from .validation import as_float_array, check_rank, check_shape

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

    def __init__(self, input_size, hidden_size, forget_bias=1.0, dtype=np.float32, rng=None,
                 stateful=False):
        rng = rng or get_rng()
        super().__init__(input_size, hidden_size, forget_bias=forget_bias, dtype=dtype, rng=rng,
                         stateful=stateful)
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


class FGRStepCache(NamedTuple):
    """What one step of the full-gate-recurrence cell keeps for its backward."""

    x: np.ndarray  # (batch, input)
    h_prev: np.ndarray  # (batch, H)
    c_prev: np.ndarray  # (batch, H)
    q_prev: np.ndarray  # the previous step's gates i, f, o side by side: (batch, 3H)
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    a: np.ndarray  # tanh(c)


def fgr_step(x, h_prev, c_prev, q_prev, params):
    """One step of the full-gate-recurrence cell: the plain LSTM step, with the gates i, f, o of
    the previous step, q_prev = [i, f, o] (batch, 3H), added into this step's i, f and o through
    R (3H, 3H). Returns h, c, q (this step's [i, f, o]) and an FGRStepCache."""
    H = h_prev.shape[1]
    z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]  # (batch, 4H): i, f, g, o
    r = q_prev @ params["R"]  # (batch, 3H): the gates' recurrence into i, f, o
    i = sigmoid(z[:, :H] + r[:, :H])
    f = sigmoid(z[:, H:2 * H] + r[:, H:2 * H])
    g = np.tanh(z[:, 2 * H:3 * H])
    o = sigmoid(z[:, 3 * H:] + r[:, 2 * H:])
    c = f * c_prev + i * g
    a = np.tanh(c)
    q = np.concatenate([i, f, o], axis=1)
    return o * a, c, q, FGRStepCache(x, h_prev, c_prev, q_prev, i, f, g, o, c, a)


def fgr_gates_backward(dh, dc, dq, cache):
    """Backward through one FGR step from the gradients arriving at its h, c and q (the last
    from the next step's gates): returns dz (batch, 4H: i, f, g, o) and dc_prev. The gradient
    for q_prev is dz_ifo @ R.T, and R's is q_prev.T @ dz_ifo, with dz_ifo = dz's i, f, o blocks."""
    H = dh.shape[1]
    dz_o = (dh * cache.a + dq[:, 2 * H:]) * sigmoid_grad(cache.o)  # o feeds h and the next gates
    dc = dc + dh * cache.o * tanh_grad(cache.a)
    dz_i = (dc * cache.g + dq[:, :H]) * sigmoid_grad(cache.i)
    dz_f = (dc * cache.c_prev + dq[:, H:2 * H]) * sigmoid_grad(cache.f)
    dz_g = dc * cache.i * tanh_grad(cache.g)
    return np.concatenate([dz_i, dz_f, dz_g, dz_o], axis=1), dc * cache.f


def _ifo(dz, H):
    """The i, f, o blocks of a (batch, 4H) gradient, side by side: (batch, 3H)."""
    return np.concatenate([dz[:, :2 * H], dz[:, 3 * H:]], axis=1)


class FullGateRecurrenceLSTM(VariantLSTM):
    """Full gate recurrence (FGR, Greff et al. 2017): each of the gates i, f, o also reads the
    previous step's i, f and o, through nine more H x H matrices, held as one R (3H, 3H) whose
    rows are the previous [i, f, o] and whose columns are the new [i, f, o]. Here it is added to
    the plain LSTM (Greff et al. added it to their LSTM with peepholes). The state carries the
    previous gates: forward(x, h0=None, c0=None, q0=None), `state` = (h, c, q), `dstate0` =
    (dh0, dc0, dq0). Before the first step the previous gates are zeros."""

    label = "FGR"

    def __init__(self, input_size, hidden_size, forget_bias=1.0, dtype=np.float32, rng=None,
                 stateful=False):
        rng = rng or get_rng()
        super().__init__(input_size, hidden_size, forget_bias=forget_bias, dtype=dtype, rng=rng,
                         stateful=stateful)
        k = 1.0 / np.sqrt(hidden_size)
        self._add_param("R", rng.uniform(-k, k, (3 * hidden_size, 3 * hidden_size)).astype(dtype))

    def forward(self, x, h0=None, c0=None, q0=None):
        check_rank(x, 3, "(batch, time, features)", "x")
        x = as_float_array(x, "x", self.dtype)
        B, T, _ = x.shape
        H = self.hidden_size
        check_shape(x, (B, T, self.input_size), "x")
        h0, c0, q0 = self._start_state([h0, c0, q0], B)  # a state carried from the last call, if any
        state = []
        for name, v, shape in (("h0", h0, (B, H)), ("c0", c0, (B, H)), ("q0", q0, (B, 3 * H))):
            v = np.zeros(shape, self.dtype) if v is None else as_float_array(v, name, self.dtype)
            check_shape(v, shape, name)
            state.append(v)
        h, c, q = state
        out = np.empty((B, T, H), self.dtype)
        caches = []
        for t in range(T):
            h, c, q, cache = fgr_step(x[:, t], h, c, q, self.params)
            out[:, t] = h
            caches.append(cache)
        self._cache = caches
        self._end_state(h, c, q)
        return out

    def gate_carry(self, dz_ifo):
        """What goes back into the previous step's gates: dz_ifo R^T, (batch, 3H)."""
        return dz_ifo @ self.params["R"].T

    def backward(self, dh, dh_T=None, dc_T=None, dq_T=None):
        """dh: (batch, time, hidden) gradient w.r.t. the outputs; returns dx, fills `grads` and
        `dstate0` = (dh0, dc0, dq0)."""
        caches = self._need_cache()
        B, T, H = len(caches[0].h_prev), len(caches), self.hidden_size
        dh = np.asarray(dh, self.dtype)
        check_shape(dh, (B, T, H), "dh")
        p = self.params
        grads = {name: np.zeros_like(v) for name, v in p.items()}
        dx = np.empty((B, T, self.input_size), self.dtype)
        dh_next = np.zeros((B, H), self.dtype) if dh_T is None else np.asarray(dh_T, self.dtype)
        dc_next = np.zeros((B, H), self.dtype) if dc_T is None else np.asarray(dc_T, self.dtype)
        dq_next = np.zeros((B, 3 * H), self.dtype) if dq_T is None else np.asarray(dq_T, self.dtype)
        for t in reversed(range(T)):
            cache = caches[t]
            dz, dc_next = fgr_gates_backward(dh[:, t] + dh_next, dc_next, dq_next, cache)
            dz_ifo = _ifo(dz, H)  # (B, 3H)
            grads["W_x"] += cache.x.T @ dz
            grads["W_h"] += cache.h_prev.T @ dz
            grads["b"] += dz.sum(axis=0)
            grads["R"] += cache.q_prev.T @ dz_ifo
            dx[:, t] = dz @ p["W_x"].T
            dh_next = dz @ p["W_h"].T
            dq_next = self.gate_carry(dz_ifo)  # back into the previous step's gates
        for name, g in grads.items():
            self.grads[name] = g.astype(self.dtype, copy=False)
        self.dstate0 = (dh_next, dc_next, dq_next)
        return dx


VARIANTS = {cls.label: cls for cls in (VariantLSTM, PeepholeLSTM, CIFGLSTM, NoForgetGateLSTM,
                                       NoInputGateLSTM, NoOutputGateLSTM, NoOutputActivationLSTM,
                                       NoInputActivationLSTM, FullGateRecurrenceLSTM)}


def make_variant(label, input_size, hidden_size, **kwargs):
    """The variant layer named `label` (a key of VARIANTS), e.g. make_variant('CIFG', 2, 16)."""
    if label not in VARIANTS:
        raise ValueError(f"unknown variant {label!r}; choose one of {list(VARIANTS)}")
    return VARIANTS[label](input_size, hidden_size, **kwargs)
