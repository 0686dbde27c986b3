"""The forecasters of chapter 12's race, each trained and run by one function.

Baselines: the naive last value and a linear autoregression (least squares). Neural models:
lstm_lib's LSTM (with its own initialisation or PyTorch's) and PyTorch's LSTM, GRU, RNN and a
small 1-D CNN, all trained with the same recipe (Adam, mean squared error, the same minibatches
in the same order for a given seed). Every `run_*` function has the signature

    run(data, seed, recipe) -> (test predictions (n_test, 1), scaled; training seconds; parameters)

with `data` a forecasting.ForecastData and `recipe` anything with hidden, lr, batch_size and
epochs (race.Recipe). torch is imported only by the torch forecasters, through
interop.require_torch.
"""
import time

import numpy as np

from .base import Sequential
from .interop import from_torch, require_torch
from .layers import LastStep, Linear
from .losses import MSELoss
from .lstm import LSTM
from .optim import Adam
from .seeding import seed as seed_everything
from .training import fit


def predict_naive(data):
    """The last known value again (scaled): with differencing, a change of zero."""
    if data.difference:
        return np.full((len(data.X_test), 1), data.scaler.transform(0.0))
    return data.X_test[:, -1, :].astype(np.float64)


def fit_linear(data):
    """Least-squares autoregression: y = X w + b on the window's values; returns (w, b)."""
    A = np.concatenate([data.X_train[:, :, 0], np.ones((len(data.X_train), 1))], 1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, data.y_train[:, 0].astype(np.float64), rcond=None)
    return coef[:-1], coef[-1]


def lstm_lib_model(hidden, dtype=np.float32):
    """LSTM(1, hidden) -> last time step -> Linear(hidden, 1)."""
    return Sequential(LSTM(1, hidden, dtype=dtype), LastStep(), Linear(hidden, 1, dtype=dtype))


def torch_model(kind, hidden, window):
    """'lstm', 'gru', 'rnn': that recurrent layer -> last step -> Linear; 'cnn': two Conv1d
    (kernel 3, `hidden // 2` channels, ReLU) -> flatten -> Linear over the `window` steps."""
    nn = require_torch().nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
            self.rnn = cls(1, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            ch = max(hidden // 2, 1)
            self.body = nn.Sequential(nn.Conv1d(1, ch, 3, padding=1), nn.ReLU(),
                                      nn.Conv1d(ch, ch, 3, padding=1), nn.ReLU(), nn.Flatten())
            self.head = nn.Linear(ch * window, 1)

        def forward(self, x):  # x: (batch, window, 1) -> Conv1d wants (batch, 1, window)
            return self.head(self.body(x.transpose(1, 2)))

    return CNN() if kind == "cnn" else Recurrent()


def lstm_lib_twin(torch_lstm_model, dtype=np.float32):
    """The lstm_lib model with the weights of a torch_model('lstm', ...): from_torch for the
    LSTM, the head's weight transposed into a Linear."""
    head = Linear(torch_lstm_model.head.in_features, 1, dtype=dtype)
    head.params["W"][...] = torch_lstm_model.head.weight.detach().numpy().T
    head.params["b"][...] = torch_lstm_model.head.bias.detach().numpy()
    return Sequential(from_torch(torch_lstm_model.rnn), LastStep(), head)


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def run_naive(data, seed, recipe):
    pred, secs = _timed(predict_naive, data)
    return pred, secs, 0


def run_linear(data, seed, recipe):
    (w, b), secs = _timed(fit_linear, data)
    return (data.X_test[:, :, 0].astype(np.float64) @ w + b)[:, None], secs, data.window + 1


def _train_lstm_lib(model, data, seed, recipe):
    _, secs = _timed(lambda: fit(model, MSELoss(), Adam(model, recipe.lr), data.X_train, data.y_train,
                                 epochs=recipe.epochs, batch_size=recipe.batch_size, progress=False,
                                 rng=np.random.default_rng(seed)))
    model.eval()
    return model.forward(data.X_test).astype(np.float64), secs, int(model.num_params())


def run_lstm_lib(data, seed, recipe):
    """lstm_lib's own initialisation (forget-gate bias 1.0, orthogonal recurrent weights)."""
    seed_everything(seed)
    return _train_lstm_lib(lstm_lib_model(recipe.hidden), data, seed, recipe)


def run_lstm_lib_torch_init(data, seed, recipe):
    """Starts from the weights PyTorch's LSTM model gets for this seed (copied by lstm_lib_twin)."""
    seed_everything(seed)
    return _train_lstm_lib(lstm_lib_twin(torch_model("lstm", recipe.hidden, data.window)), data, seed,
                           recipe)


def run_torch(kind, data, seed, recipe):
    """torch_model(kind) trained with the same recipe and the same batches as run_lstm_lib."""
    torch = require_torch()
    seed_everything(seed)
    model = torch_model(kind, recipe.hidden, data.window)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    X, Y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(seed)

    def train():
        for _ in range(recipe.epochs):
            order = torch.from_numpy(rng.permutation(len(X)))
            for s in range(0, len(X), recipe.batch_size):
                idx = order[s:s + recipe.batch_size]
                opt.zero_grad()
                torch.nn.functional.mse_loss(model(X[idx]), Y[idx]).backward()
                opt.step()

    _, secs = _timed(train)
    with torch.no_grad():
        pred = model(torch.from_numpy(data.X_test)).numpy().astype(np.float64)
    return pred, secs, int(sum(p.numel() for p in model.parameters()))
