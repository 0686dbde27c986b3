"""Copy weights between lstm_lib's recurrent layers and torch.nn.RNN / LSTM / GRU.

torch stores weight_ih as (gates*H, input) and two biases; lstm_lib stores W_x as
(input, gates*H) and one bias (plus b_hn for the GRU). torch is imported lazily, through
require_torch.
"""
import numpy as np

from .gru import GRU
from .lstm import LSTM
from .rnn import RNN


def require_torch():
    """The torch module, or ImportError with a one-line message saying how to install it.
    The package's one torch guard: everything that needs torch imports it through here."""
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch is not installed (pip install torch)") from None
    return torch


def _check_module(module):
    torch = require_torch()
    kinds = {torch.nn.LSTM: LSTM, torch.nn.GRU: GRU, torch.nn.RNN: RNN}
    kind = kinds.get(type(module))
    if kind is None:
        raise TypeError(f"from_torch expects torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    problems = []
    if module.num_layers != 1:
        problems.append(f"num_layers={module.num_layers} (expected 1: stack lstm_lib layers instead)")
    if module.bidirectional:
        problems.append("bidirectional=True (expected False)")
    if not module.batch_first:
        problems.append("batch_first=False (expected True)")
    if getattr(module, "proj_size", 0):
        problems.append(f"proj_size={module.proj_size} (expected 0)")
    if not module.bias:
        problems.append("bias=False (expected True)")
    if kind is RNN and module.nonlinearity != "tanh":
        problems.append(f"nonlinearity={module.nonlinearity!r} (expected 'tanh')")
    if problems:
        raise ValueError(f"cannot convert this {type(module).__name__}: " + "; ".join(problems))
    return kind


def from_torch(module):
    """The lstm_lib layer computing the same function as a one-layer, batch_first torch module.
    The dtype follows the module's (float32 or float64)."""
    kind = _check_module(module)
    w_ih = module.weight_ih_l0.detach().cpu().numpy()
    w_hh = module.weight_hh_l0.detach().cpu().numpy()
    b_ih = module.bias_ih_l0.detach().cpu().numpy()
    b_hh = module.bias_hh_l0.detach().cpu().numpy()
    dtype = w_ih.dtype
    H, I = module.hidden_size, module.input_size
    layer = LSTM(I, H, dtype=dtype) if kind is LSTM else kind(I, H, dtype=dtype)
    layer.params["W_x"][...] = w_ih.T
    layer.params["W_h"][...] = w_hh.T
    if kind is GRU:
        layer.params["b"][...] = b_ih
        layer.params["b"][:2 * H] += b_hh[:2 * H]
        layer.params["b_hn"][...] = b_hh[2 * H:]
    else:
        layer.params["b"][...] = b_ih + b_hh
    return layer


def to_torch(layer):
    """The one-layer, batch_first torch module computing the same function as `layer`,
    from its current params (torch's bias_hh gets zeros, except the GRU's n part)."""
    torch = require_torch()
    kinds = {LSTM: torch.nn.LSTM, GRU: torch.nn.GRU, RNN: torch.nn.RNN}
    cls = kinds.get(type(layer))
    if cls is None:
        raise TypeError(f"to_torch expects an lstm_lib RNN, LSTM or GRU, got {type(layer).__name__}")
    p = layer.params
    dtype = torch.float64 if p["W_x"].dtype == np.float64 else torch.float32
    module = cls(layer.input_size, layer.hidden_size, batch_first=True, dtype=dtype)
    H = layer.hidden_size
    b_hh = np.zeros_like(p["b"])
    if cls is torch.nn.GRU:
        b_hh[2 * H:] = p["b_hn"]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(p["W_x"].T)))
        module.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(p["W_h"].T)))
        module.bias_ih_l0.copy_(torch.from_numpy(p["b"].copy()))
        module.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return module


def grads_from_torch(module):
    """torch's .grad of a module, in lstm_lib's names and layout (for comparing gradients)."""
    kind = _check_module(module)
    g = {"W_x": module.weight_ih_l0.grad.numpy().T, "W_h": module.weight_hh_l0.grad.numpy().T}
    if kind is GRU:
        H = module.hidden_size
        # b collects bias_ih and the r, z part of bias_hh: both receive the same gradient there
        g["b"] = module.bias_ih_l0.grad.numpy().copy()
        g["b_hn"] = module.bias_hh_l0.grad.numpy()[2 * H:]
    else:
        g["b"] = module.bias_ih_l0.grad.numpy().copy()
    return g
