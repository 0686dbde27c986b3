"""lstm_lib: a small, exact, fast NumPy library of recurrent layers, built in the
"LSTM from Scratch" course. Layers are batch-first and equal to torch.nn's.

Two parts, one line between them:

- The library: the modules directly in lstm_lib/ (layers, recurrent layers, losses,
  optimisers, training, gradient check, interop with torch, data, benchmark). What this file
  exports is its public API; nothing in it imports from lstm_lib.course.
- The course: lstm_lib.course and its subpackages (widgets, exercises and their checkers,
  planted bugs, the studies and results the chapters show, the environment check). It
  serves the notebooks and imports the library, never the other way round.
"""
from . import activations, cells, datasets
from .activations import log_softmax, sigmoid, softmax, tanh
from .base import Layer, Sequential
from .gradcheck import GradCheckReport, gradient_check, loss_gradient_check
from .gru import GRU
from .layers import Dropout, Embedding, LastStep, Linear
from .losses import MSELoss, SoftmaxCrossEntropy
from .lstm import LSTM
from .optim import SGD, Adam, Momentum, clip_grad_norm, global_norm
from .reference import ReferenceLSTM
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
    "ReferenceLSTM",
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
