"""lstm_lib: a small, exact, fast NumPy library of recurrent layers, built in the
"LSTM from Scratch" course. Layers are batch-first and equal to torch.nn's."""
from . import activations, cells, datasets
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
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "Adam",
    "Dropout",
    "Embedding",
    "GradCheckReport",
    "History",
    "LastStep",
    "Layer",
    "Linear",
    "MSELoss",
    "Momentum",
    "Sequential",
    "SoftmaxCrossEntropy",
    "TrainingDiverged",
    "activations",
    "cells",
    "clip_grad_norm",
    "datasets",
    "evaluate",
    "fit",
    "get_rng",
    "global_norm",
    "gradient_check",
    "log_softmax",
    "loss_gradient_check",
    "seed",
    "sigmoid",
    "softmax",
    "tanh",
]
