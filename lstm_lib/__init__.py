"""lstm_lib: a small, exact, fast NumPy library of recurrent layers, built in the
"LSTM from Scratch" course. Layers are batch-first and equal to torch.nn's."""
from . import activations, cells
from .activations import log_softmax, sigmoid, softmax, tanh
from .base import Layer, Sequential
from .gradcheck import GradCheckReport, gradient_check, loss_gradient_check
from .gru import GRU
from .layers import Dropout, Embedding, LastStep, Linear
from .losses import MSELoss, SoftmaxCrossEntropy
from .lstm import LSTM
from .optim import SGD, Adam, Momentum, clip_grad_norm, global_norm
from .rnn import RNN
from .seeding import get_rng, seed
from .training import History, TrainingDiverged, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    "activations", "cells", "sigmoid", "tanh", "softmax", "log_softmax",
    "Layer", "Sequential", "Linear", "Embedding", "Dropout", "LastStep",
    "RNN", "LSTM", "GRU", "MSELoss", "SoftmaxCrossEntropy",
    "SGD", "Momentum", "Adam", "clip_grad_norm", "global_norm",
    "gradient_check", "loss_gradient_check", "GradCheckReport",
    "fit", "evaluate", "History", "TrainingDiverged", "seed", "get_rng",
]
