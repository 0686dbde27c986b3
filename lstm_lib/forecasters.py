"""The forecasters of chapter 12's race, each trained and run by one function.

Baselines: the naive last value and a linear autoregression (least squares). Neural models:
lstm_lib's LSTM (with its own initialisation or PyTorch's), PyTorch's LSTM (with its two bias
vectors per gate, or with one, as lstm_lib has), GRU, RNN and a small 1-D CNN, all trained
with the same recipe (Adam, mean squared error, the same minibatches in the same order for a
given seed, at most `recipe.epochs` epochs, the weights of the epoch with the lowest
validation MSE kept). Every `run_*` function has the signature

    run(data, seed, recipe) -> Fitted

with `data` a forecasting.ForecastData and `recipe` anything with hidden, lr, batch_size and
epochs (race.Recipe). torch is imported only by the torch forecasters, through
interop.require_torch.
"""
from typing import NamedTuple

import numpy as np

from .base import Sequential
from .interop import from_torch, require_torch
from .layers import LastStep, Linear
from .losses import MSELoss
from .lstm import LSTM
from .optim import Adam
from .seeding import seed as seed_everything
from .training import fit


class Fitted(NamedTuple):
    """What a forecaster's run gives: test predictions (n_test, 1), scaled; the number of
    trained parameters; the epoch whose weights were kept and the validation MSE after each
    epoch (both None for the baselines, which are not trained by epochs)."""

    pred: np.ndarray
    params: int
    epoch: int = None
    val_curve: list = None


def keep_best_epoch(train_epoch, val_mse, get_state, set_state, epochs):
    """Early stopping on the validation stretch: train_epoch() `epochs` times, val_mse() after
    each; at the end set_state() back to the get_state() of the epoch with the lowest
    validation MSE (the last epoch if val_mse returns None: no validation stretch).
    Returns (that epoch, the validation MSEs)."""
    best, best_epoch, best_state, curve = np.inf, epochs, None, []
    for epoch in range(1, epochs + 1):
        train_epoch()
        v = val_mse()
        if v is None:
            continue
        curve.append(v)
        if v < best:
            best, best_epoch, best_state = v, epoch, get_state()
    if best_state is not None:
        set_state(best_state)
    return best_epoch, (curve or None)


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


def fold_biases(lstm):
    """Give a torch.nn.LSTM lstm_lib's parametrisation: bias_hh added into bias_ih and frozen
    at zero, so one bias per gate is trained. (The two only ever appear as their sum, so the
    function is the same; trained both, the sum moves twice per step.)"""
    torch = require_torch()
    with torch.no_grad():
        lstm.bias_ih_l0 += lstm.bias_hh_l0
        lstm.bias_hh_l0.zero_()
    lstm.bias_hh_l0.requires_grad_(False)
    return lstm


def torch_model(kind, hidden, window):
    """'lstm', 'gru', 'rnn': that recurrent layer -> last step -> Linear; 'lstm_one_bias': the
    LSTM with fold_biases; 'cnn': two Conv1d (kernel 3, `hidden // 2` channels, ReLU) ->
    flatten -> Linear over the `window` steps."""
    nn = require_torch().nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            cls = {"lstm": nn.LSTM, "lstm_one_bias": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
            self.rnn = cls(1, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 1)
            if kind == "lstm_one_bias":
                fold_biases(self.rnn)

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


def run_naive(data, seed, recipe):
    return Fitted(predict_naive(data), 0)


def run_linear(data, seed, recipe):
    w, b = fit_linear(data)
    return Fitted((data.X_test[:, :, 0].astype(np.float64) @ w + b)[:, None], data.window + 1)


def _mse(pred, y):
    return float(np.mean((np.asarray(pred, np.float64) - y) ** 2))


def _train_lstm_lib(model, data, seed, recipe):
    """fit() one epoch at a time (the same batches as one fit() of all epochs: one generator),
    the best epoch on the validation stretch kept."""
    opt, loss, rng = Adam(model, recipe.lr), MSELoss(), np.random.default_rng(seed)

    def val_mse():
        if not len(data.X_val):
            return None
        model.eval()
        v = _mse(model.forward(data.X_val), data.y_val)
        model.train()
        return v

    epoch, curve = keep_best_epoch(
        lambda: fit(model, loss, opt, data.X_train, data.y_train, epochs=1,
                    batch_size=recipe.batch_size, progress=False, rng=rng),
        val_mse, lambda: {k: p.copy() for k, p in model.params.items()},
        lambda state: [np.copyto(model.params[k], v) for k, v in state.items()], recipe.epochs)
    model.eval()
    return Fitted(model.forward(data.X_test).astype(np.float64), int(model.num_params()), epoch, curve)


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
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trained, lr=recipe.lr)
    X, Y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(seed)

    def train_epoch():
        model.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        for s in range(0, len(X), recipe.batch_size):
            idx = order[s:s + recipe.batch_size]
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(X[idx]), Y[idx]).backward()
            opt.step()

    def predict(x):
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy().astype(np.float64)

    epoch, curve = keep_best_epoch(
        train_epoch, lambda: _mse(predict(data.X_val), data.y_val) if len(data.X_val) else None,
        lambda: {k: v.clone() for k, v in model.state_dict().items()}, model.load_state_dict,
        recipe.epochs)
    return Fitted(predict(data.X_test), int(sum(p.numel() for p in trained)), epoch, curve)
