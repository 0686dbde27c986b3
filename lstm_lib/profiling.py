"""Where the time of a recurrent layer's training step goes: the matrix products (the floor),
the Python lines and NumPy calls, and the elementwise rest. Chapter 13 uses it.

- `matmul_flops`: the floating-point operations of a training step's matrix products;
- `matmul_only_step`: a function running only those products, as the layer runs them;
- `profile_training_step`: one step's time split into the three parts.
"""
import time

import numpy as np

from .timing import time_per_call


def matmul_flops(gates, batch, time, input_size, hidden):
    """Operations of the matrix products in one forward + backward of a layer with `gates`
    gate blocks (RNN 1, GRU 3, LSTM 4): 2 B T G H (I + H) forward (a multiply-add is two
    operations), and backward twice that (the gradient flowing back, and the weights')."""
    return 6 * batch * time * gates * hidden * (input_size + hidden)


def training_step(layer, x, dh):
    """A function that runs one forward + backward of `layer` on x with output gradient dh."""
    def step():
        layer.forward(x)
        return layer.backward(dh)
    return step


def matmul_only_step(layer, x):
    """A function doing only the matrix products of one training step of the lstm_lib
    recurrent `layer` on input x (B, T, I), with the same shapes, dtype and `out=` arrays as
    the layer: the input projection, T products with W_h forward and T with W_h^T backward, the two
    weight-gradient products and dx. Its time is the floor for the whole step."""
    B, T, I = x.shape
    H, G = layer.hidden_size, layer.gates * layer.hidden_size
    dt = layer.dtype
    W_x, W_h = layer.params["W_x"], layer.params["W_h"]
    X = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dt).reshape(T * B, I)
    Z = np.zeros((T * B, G), dt)
    Hs = np.zeros((T + 1, B, H), dt)
    dGx, dW_x, dW_h = np.zeros((T * B, G), dt), np.zeros((I, G), dt), np.zeros((H, G), dt)
    dx = np.zeros((T * B, I), dt)
    W_hT = np.ascontiguousarray(W_h.T)  # as the layers do
    dG = dGx.reshape(T, B, G)

    def step():
        if I == 1:
            np.multiply(X, W_x[0], out=Z)
        else:
            np.matmul(X, W_x, out=Z)
        gh, dh = np.zeros((B, G), dt), np.zeros((B, H), dt)
        for h_prev in Hs[:-1]:  # the T products of the forward loop
            h_prev.dot(W_h, out=gh)
        for d in dG[::-1]:  # and of the backward loop
            d.dot(W_hT, out=dh)
        np.matmul(X.T, dGx, out=dW_x)
        np.matmul(Hs[:-1].reshape(T * B, H).T, dGx, out=dW_h)
        np.matmul(dGx, W_x.T, out=dx)
    return step


def profile_training_step(layer_cls, B, T, I, H, dtype=np.float32, repeat=5, number=3, seed=0,
                          clock=time.perf_counter):
    """Split the time of one training step (forward + backward) of `layer_cls` (lstm_lib.LSTM,
    GRU or RNN) at (batch, time, input, hidden) into three parts, in seconds:

    - "matmul": the matrix products alone (`matmul_only_step`), the floor;
    - "overhead": the cost of all the other Python lines and NumPy calls, measured by running
      the same code at batch = input = hidden = 1 and the same T (arrays too small to cost
      anything), minus the matrix products at that size;
    - "elementwise": the rest, total - matmul - overhead (gates, state updates, copies).

    Each is the best (minimum) of `repeat` interleaved measurements of `number` calls: the
    least disturbed run is the best estimate of what the code itself costs.
    Returns a dict with these, "total", and "per_step_us" (each part / T in microseconds).
    """
    rng = np.random.default_rng(seed)
    layer = layer_cls(I, H, dtype=dtype, rng=rng)
    tiny = layer_cls(1, 1, dtype=dtype, rng=rng)
    x = rng.standard_normal((B, T, I)).astype(dtype)
    dh = rng.standard_normal((B, T, H)).astype(dtype)
    x1 = rng.standard_normal((1, T, 1)).astype(dtype)
    dh1 = rng.standard_normal((1, T, 1)).astype(dtype)
    fns = {"total": training_step(layer, x, dh), "matmul": matmul_only_step(layer, x),
           "tiny": training_step(tiny, x1, dh1), "tiny_matmul": matmul_only_step(tiny, x1)}
    for fn in fns.values():  # warm up
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):  # interleaved, so a busy moment hits all of them alike
        for k, fn in fns.items():
            times[k].append(time_per_call(fn, number, clock))
    res = {k: float(np.min(v)) for k, v in times.items()}
    res["overhead"] = max(0.0, res.pop("tiny") - res.pop("tiny_matmul"))
    res["elementwise"] = max(0.0, res["total"] - res["matmul"] - res["overhead"])
    res["per_step_us"] = {k: res[k] / T * 1e6 for k in ("total", "matmul", "overhead", "elementwise")}
    return res
