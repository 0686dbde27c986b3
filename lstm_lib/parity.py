"""Parity with torch.nn.LSTM (chapter 12): the same function, and the same training run.

`parity_forward_backward` compares outputs, final state and every gradient of lstm_lib's LSTM
and a torch.nn.LSTM with the same weights (copied by interop.from_torch). `parity_training`
trains twin models (forecasters.torch_model('lstm_one_bias') and its lstm_lib twin) with the same
optimiser on the same minibatches and returns both loss curves. torch is needed throughout
(interop.require_torch).
"""
import numpy as np

from .forecasters import lstm_lib_twin, torch_model
from .interop import from_torch, grads_from_torch, require_torch
from .losses import MSELoss
from .optim import SGD, Adam, Momentum
from .seeding import seed as seed_everything


def _max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def parity_forward_backward(batch=4, time_steps=7, input_size=3, hidden=5, seed=0):
    """Copy a float64 torch.nn.LSTM into lstm_lib with interop.from_torch, run both on the
    same input and initial state, backpropagate the same upstream gradient, and return the
    largest absolute difference of every output and gradient (dict name -> float)."""
    torch = require_torch()
    seed_everything(seed)
    module = torch.nn.LSTM(input_size, hidden, batch_first=True, dtype=torch.float64)
    layer = from_torch(module)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, time_steps, input_size))
    h0, c0 = rng.standard_normal((2, batch, hidden))
    dh = rng.standard_normal((batch, time_steps, hidden))  # upstream gradient, dL/dh_t

    out = layer.forward(x, h0, c0)
    dx = layer.backward(dh)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    out_t, (hT, cT) = module(xt, (h0t, c0t))
    (out_t * torch.from_numpy(dh)).sum().backward()
    tg = grads_from_torch(module)
    return {
        "output h_t": _max_diff(out, out_t.detach().numpy()),
        "final h_T": _max_diff(layer.state[0], hT.detach().numpy()[0]),
        "final c_T": _max_diff(layer.state[1], cT.detach().numpy()[0]),
        "dx": _max_diff(dx, xt.grad.numpy()),
        "dW_x": _max_diff(layer.grads["W_x"], tg["W_x"]),
        "dW_h": _max_diff(layer.grads["W_h"], tg["W_h"]),
        "db": _max_diff(layer.grads["b"], tg["b"]),
        "dh0": _max_diff(layer.dstate0[0], h0t.grad.numpy()[0]),
        "dc0": _max_diff(layer.dstate0[1], c0t.grad.numpy()[0]),
    }


def twin_models(hidden, seed=0, dtype=np.float64):
    """A torch model (LSTM(1, hidden) -> last step -> Linear) with one bias per gate
    (forecasters.torch_model('lstm_one_bias'): bias_hh folded into bias_ih and frozen) and its
    lstm_lib twin with the same weights, both in `dtype`: (torch_model, lstm_lib_model)."""
    require_torch()
    seed_everything(seed)
    tm = torch_model("lstm_one_bias", hidden, window=None)
    tm = tm.double() if np.dtype(dtype) == np.float64 else tm.float()
    return tm, lstm_lib_twin(tm, dtype=dtype)


def parity_training(X, Y, hidden=8, optimizer="adam", lr=1e-2, epochs=3, batch_size=32, seed=0,
                    dtype=np.float64):
    """Train twin models (same weights, `dtype`) with the same optimiser on the same minibatches
    in the same order. Returns (losses_lstm_lib, losses_torch, max parameter difference at the end)."""
    torch = require_torch()
    opts = {"sgd": (SGD, lambda p: torch.optim.SGD(p, lr=lr)),
            "momentum": (Momentum, lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9)),
            "adam": (Adam, lambda p: torch.optim.Adam(p, lr=lr))}
    if optimizer not in opts:
        raise ValueError(f"optimizer must be one of {sorted(opts)}, got {optimizer!r}")
    tm, nm = twin_models(hidden, seed, dtype)
    X, Y = np.asarray(X, dtype), np.asarray(Y, dtype)
    trainable = [p for p in tm.parameters() if p.requires_grad]
    n_opt, t_opt = opts[optimizer][0](nm, lr), opts[optimizer][1](trainable)
    loss_fn = MSELoss()
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s:s + batch_size]
            ours.append(float(loss_fn.forward(nm.forward(X[idx]), Y[idx])))
            nm.backward(loss_fn.backward())
            n_opt.step()
            t_opt.zero_grad()
            loss = torch.nn.functional.mse_loss(tm(torch.from_numpy(X[idx])), torch.from_numpy(Y[idx]))
            loss.backward()
            t_opt.step()
            theirs.append(loss.item())
    rnn = nm.layers[0]
    torch_params = {"W_x": tm.rnn.weight_ih_l0.detach().numpy().T,
                    "W_h": tm.rnn.weight_hh_l0.detach().numpy().T, "b": tm.rnn.bias_ih_l0.detach().numpy()}
    pdiff = max(_max_diff(rnn.params[k], v) for k, v in torch_params.items())
    return np.array(ours), np.array(theirs), pdiff
