"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): gated recurrences whose
gates and candidate read the input only, so the layer is the linear recurrence

    h_t = a_t * h_{t-1} + b_t          (a_t, b_t from x_t alone)

of `lstm_lib.scan`, computable by a loop or by a parallel scan, forward and backward.

    minGRU:  z = sigmoid(x W_z + b_z),  h~ = x W_h + b_h,  a = 1 - z,      b = z * h~
    minLSTM: f = sigmoid(x W_f + b_f),  i = sigmoid(x W_i + b_i),  h~ = x W_h + b_h,
             a = f / (f + i),  b = i / (f + i) * h~

That is the paper's definition (its sequential and parallel modes). The paper's *log-space
variant* (`log_space=True`) passes the candidate and the initial state through the positive
activation g(p) = p + 1/2 for p >= 0, sigmoid(p) for p < 0: h~ = g(x W_h + b_h) and
h_0 = g(h0), so b > 0 and h_0 > 0 and the recurrence can be computed in logarithms
(method 'log'). For a given `log_space`, every `method` computes the same function
(`lstm_lib.scan.METHODS`: 'loop', 'hillis_steele', 'blelloch', 'log'; 'log' needs
log_space=True).
"""
import numpy as np

from .activations import sigmoid
from .base import Layer
from .scan import METHODS, reverse_scan, scan
from .seeding import get_rng
from .state import CarriedState
from .validation import as_float_array, check_rank, check_shape


def sigmoid_pair(x):
    """(sigmoid(x), sigmoid(-x)), both accurate in their tails (activations.sigmoid)."""
    return sigmoid(x), sigmoid(-x)


def g(p, s):
    """The positive candidate activation: p + 1/2 for p >= 0, sigmoid(p) below; s = sigmoid(p).
    As one maximum: p + 1/2 >= sigmoid(p) exactly when p >= 0 (they touch at p = 0)."""
    return np.maximum(p + 0.5, s)


def g_grad(p, s, sn):
    """g'(p): 1 for p >= 0, sigmoid(p) sigmoid(-p) (<= 1/4) below; s = sigmoid(p), sn = sigmoid(-p)."""
    return np.maximum(s * sn, p >= 0)


class _MinRNN(CarriedState, Layer):
    """Shared by MinGRU and MinLSTM: the input projection Z = x W_x + b for all steps as one
    matrix product, the coefficients a, b from Z (subclasses), the scan, and the backward:
    a reverse scan for the gradient reaching each h_t, then everything else at once.

    forward(x (batch, time, input), h0=None) -> (batch, time, hidden); backward(dh) -> dx.
    Parameters: W_x (input, blocks*H), uniform in +-1/sqrt(input) (as torch.nn.Linear), b zeros.
    log_space=False: the paper's minGRU/minLSTM, candidate h~ = x W_h + b_h and h_0 = h0 (zeros
    if None). log_space=True: the paper's log-space variant, h~ = g(x W_h + b_h) and
    h_0 = g(h0) (no initial state if h0 is None), the only one the method 'log' can compute.
    After forward, `state` is (h_T,); after backward, `dstate0` is (dh0,). With stateful=True
    (the protocol of `lstm_lib.state`) h_T is carried into the next call as its h_0, as it is
    (not passed through g again), until reset_state(). `steps` holds the
    number of Python-level steps the last forward and backward made (T for the loop, about
    log2 T for the scans).
    """

    blocks = 1
    block_names = ()

    def __init__(self, input_size, hidden_size, method="blelloch", dtype=np.float32, rng=None,
                 log_space=False, stateful=False):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, "
                             f"got {input_size} and {hidden_size}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
        if method == "log" and not log_space:
            raise ValueError("method 'log' needs log_space=True: the plain candidate x W_h + b_h "
                             "can be negative, and negative numbers have no logarithm")
        rng = rng or get_rng()
        self.input_size, self.hidden_size, self.method = input_size, hidden_size, method
        self.log_space, self.stateful = bool(log_space), stateful
        k = 1.0 / np.sqrt(input_size)
        G = self.blocks * hidden_size
        self._add_param("W_x", rng.uniform(-k, k, (input_size, G)).astype(dtype))
        self._add_param("b", np.zeros(G, dtype))
        self._cache = None
        self.state = self.dstate0 = None
        self.steps = {"forward": None, "backward": None}

    def forward(self, x, h0=None):
        check_rank(x, 3, "(batch, time, features)", "x")
        x = as_float_array(x, "x", self.dtype)
        B, T, I = x.shape
        if I != self.input_size or B < 1 or T < 1:
            raise ValueError(f"x must have shape (batch >= 1, time >= 1, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        H = self.hidden_size
        dg0 = None  # dh_0 / d(h0): g'(h0) in log space
        carried = self._start_state([h0], B)[0] if h0 is None else None
        if carried is not None:
            h0 = carried  # the h_T of the last call: already past g
        elif h0 is None:
            h0 = np.zeros((B, H), self.dtype)
        else:
            h0 = as_float_array(h0, "h0", self.dtype)
            check_shape(h0, (B, H), "h0")
            if self.log_space:
                s0, sn0 = sigmoid_pair(h0)
                h0, dg0 = g(h0, s0), g_grad(h0, s0, sn0)
        X = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, I), time-major
        Z = (X.reshape(T * B, I) @ self.params["W_x"]).reshape(T, B, -1) + self.params["b"]
        a, b, local = self._coefficients(Z, *sigmoid_pair(Z))  # each (T, B, H)
        Hs, self.steps["forward"] = scan(a, b, h0, self.method)  # (T, B, H)
        self._cache = (X, a, local, h0, Hs, dg0)
        self._end_state(Hs[-1])
        return np.ascontiguousarray(Hs.transpose(1, 0, 2))  # (B, T, H)

    def backward(self, dh):
        """dh: (batch, time, hidden), dL/d(output). Fills grads, sets dstate0, returns dL/dx."""
        X, a, local, h0, Hs, dg0 = self._need_cache()
        T, B, I = X.shape
        dh = np.asarray(dh)
        check_shape(dh, (B, T, self.hidden_size), "dh")
        dH = np.ascontiguousarray(dh.transpose(1, 0, 2), dtype=self.dtype)  # (T, B, H)
        # G[t] = dL/dh_t in total: the direct dh_t plus what reaches h_t from h_{t+1}
        G, self.steps["backward"] = reverse_scan(self._next_coefficients(a), dH, self.method)
        H_prev = np.concatenate([h0[None], Hs[:-1]])  # h_{t-1} for every t
        dZ = self._coefficient_grads(G * H_prev, G, local)  # da_t = g_t h_{t-1}, db_t = g_t
        dZ2 = dZ.reshape(T * B, -1)  # (T*B, blocks*H)
        np.matmul(X.reshape(T * B, I).T, dZ2, out=self.grads["W_x"])
        np.sum(dZ2, axis=0, out=self.grads["b"])
        self.dstate0 = (a[0] * G[0] if dg0 is None else a[0] * G[0] * dg0,)
        dx = (dZ2 @ self.params["W_x"].T).reshape(T, B, I)
        return np.ascontiguousarray(dx.transpose(1, 0, 2))  # (B, T, I)

    def _next_coefficients(self, a):
        """a_{t+1} at position t: the backward is g_t = dh_t + a_{t+1} g_{t+1}."""
        a_next = np.empty_like(a)
        a_next[:-1] = a[1:]
        a_next[-1] = 1  # ignored: nothing comes after the last step
        return a_next

    def coefficients(self, x):
        """The recurrence's a and b for input x, batch-first: two (batch, time, hidden) arrays."""
        x = as_float_array(x, "x", self.dtype)
        Z = x @ self.params["W_x"] + self.params["b"]
        a, b, _ = self._coefficients(Z, *sigmoid_pair(Z))
        return a, b

    def _candidate(self, p, sp, spn):
        """h~ and dh~/dp from the candidate's pre-activation p (sp = sigmoid(p), spn = sigmoid(-p)):
        p itself, or g(p) in the log-space variant."""
        if self.log_space:
            return g(p, sp), g_grad(p, sp, spn)
        return p, 1.0

    def _blocks(self, Z):
        H = self.hidden_size
        return [Z[..., k * H:(k + 1) * H] for k in range(self.blocks)]

    def _coefficients(self, Z, S, Sn):
        """a, b (each (T, B, H)) and what the backward needs, from Z = x W_x + b,
        S = sigmoid(Z) and Sn = sigmoid(-Z)."""
        raise NotImplementedError

    def _coefficient_grads(self, da, db, local):
        raise NotImplementedError


class MinGRU(_MinRNN):
    """minGRU: h_t = (1 - z_t) h_{t-1} + z_t h~_t with z and h~ from x_t only
    (h~ = x W_h + b_h, or g of it with log_space=True).
    W_x columns: [z block | h~ block]."""

    blocks = 2
    block_names = ("z", "h~")

    def _coefficients(self, Z, S, Sn):
        (_, p), (z, sp), (a, spn) = self._blocks(Z), self._blocks(S), self._blocks(Sn)
        ht, dg = self._candidate(p, sp, spn)  # a = 1 - z = sigmoid(-k_z), accurate near z = 1
        return a, z * ht, (z, a, ht, dg)

    def _coefficient_grads(self, da, db, local):
        z, a, ht, dg = local
        dz = db * ht - da  # a = 1 - z, b = z h~
        return np.concatenate([dz * z * a, db * z * dg], axis=-1)


class MinLSTM(_MinRNN):
    """minLSTM: h_t = f'_t h_{t-1} + i'_t h~_t with f' = f / (f + i), i' = i / (f + i)
    (the paper's normalised gates, so the scale of h does not grow with time); h~ as in MinGRU.
    W_x columns: [f block | i block | h~ block]."""

    blocks = 3
    block_names = ("f", "i", "h~")

    def _coefficients(self, Z, S, Sn):
        (_, _, p), (f, i, sp), (fn_, in_, spn) = self._blocks(Z), self._blocks(S), self._blocks(Sn)
        ht, dg = self._candidate(p, sp, spn)
        s = f + i
        a, ip = f / s, i / s  # f', i'
        # f (1 - f) = sigmoid(k_f) sigmoid(-k_f), the same for i
        return a, ip * ht, (s, a, ip, ht, f * fn_, i * in_, dg)

    def _coefficient_grads(self, da, db, local):
        s, fp, ip, ht, df_dk, di_dk, dg = local
        dfp, dip = da, db * ht  # a = f', b = i' h~
        df = (dfp - dip) * ip / s  # d f'/d f = i'/s, d i'/d f = -i'/s
        di = (dip - dfp) * fp / s  # d f'/d i = -f'/s, d i'/d i = f'/s
        return np.concatenate([df * df_dk, di * di_dk, db * ip * dg], axis=-1)
