"""Chapter 12 widgets: the input's conditioning (ConditioningDemo, the chapter's main finding) and
the learning rate and momentum -> how far training gets, and how smooth it looks
(LearningRateDemo, its "Going deeper" part).

ConditioningDemo is described in its class. LearningRateDemo shows the other road to a
"smoother" forecast in chapter 12, small steps, in a model small enough to retrain on every
slider move: a linear autoregression on the sunspot windows (next value = weights . last 12 values + bias),
started from zero weights (it then predicts the training mean: a flat line) and trained by
minibatch gradient descent with momentum for a fixed number of epochs, with lstm_lib's own
Linear, MSELoss and Momentum. One run takes a few milliseconds.

A small learning rate leaves the weights near zero after the same number of epochs: the
forecast is a damped, lagging copy of the recent past, smooth and bad. The least-squares
weights (what training converges to) are the other end. `run_gd` trains once, `sweep` over
all learning rates of the slider (the path in the roughness-error plane), `summary` is the
readout, `plot` the figure, `race_widget` wires two sliders to them. The LSTM predictions of
the notebook's smoother study can be passed in as `reference` and are drawn for comparison.
"""
import numpy as np

from ...forecasters import fit_linear
from . import interact, slider

LOG10_LR_RANGE = (-4.0, -0.5, 0.1)  # slider min, max, step


def _lr(log10_lr):
    return float(f"{10.0 ** log10_lr:.3g}")


def _flat(X):
    """Windows (n, window, 1) -> (n, window) float64."""
    X = np.asarray(X, np.float64)
    return X.reshape(len(X), -1)


class LearningRateDemo:
    """Gradient-descent runs of a linear autoregression on `data` (a forecasting.ForecastData), cached
    by (learning rate, momentum). `reference`: optional dict name -> test predictions in the
    series' units (e.g. the LSTM recipes of the smoother study), drawn next to the demo's."""

    def __init__(self, data, reference=None, epochs=60, batch_size=64, seed=0):
        from ..smoothness import roughness

        self.data, self.epochs, self.batch_size, self.seed = data, epochs, batch_size, seed
        self.reference = {k: np.asarray(v, np.float64) for k, v in (reference or {}).items()
                          if v is not None}
        self.X_train, self.y_train = _flat(data.X_train), np.asarray(data.y_train, np.float64)
        self.X_test = _flat(data.X_test)
        self.truth = np.asarray(data.y_test_units, np.float64)
        self.truth_roughness = roughness(self.truth)
        w, b = fit_linear(data)
        self.w_ls = np.append(w, b)  # least-squares weights and bias: where training converges
        self.ls = self._score(self.X_test @ w + b)
        self._cache = {}

    def _score(self, pred_scaled):
        pred = self.data.to_units(np.asarray(pred_scaled, np.float64).ravel())
        return {"pred": pred, **self._score_units(pred)}

    def run_gd(self, lr, momentum=0.0):
        """Train from zero weights; returns a dict: pred (test predictions in the series' units),
        mse, roughness, progress (1 - |w - w_ls| / |w_ls|: 0 at the start, 1 at the
        least-squares weights) and diverged_at (epoch, or None)."""
        from ...layers import Linear
        from ...losses import MSELoss
        from ...optim import Momentum

        key = (float(lr), float(momentum))
        if key in self._cache:
            return self._cache[key]
        model = Linear(self.X_train.shape[1], 1, dtype=np.float64)
        model.params["W"][...] = 0.0
        model.params["b"][...] = 0.0
        loss_fn, opt = MSELoss(), Momentum(model, lr, momentum)
        rng = np.random.default_rng(self.seed)
        n, diverged_at = len(self.X_train), None
        with np.errstate(all="ignore"):
            for epoch in range(1, self.epochs + 1):
                order = rng.permutation(n)
                for s in range(0, n, self.batch_size):
                    idx = order[s:s + self.batch_size]
                    loss = loss_fn.forward(model.forward(self.X_train[idx]), self.y_train[idx])
                    if not np.isfinite(loss) or loss > 1e3:
                        diverged_at = epoch
                        break
                    model.backward(loss_fn.backward())
                    opt.step()
                if diverged_at is not None:
                    break
        if diverged_at is not None:
            result = {"pred": None, "mse": np.inf, "roughness": np.nan, "progress": np.nan,
                      "diverged_at": diverged_at}
        else:
            w = np.concatenate([model.params["W"][:, 0], model.params["b"]])
            result = self._score(model.forward(self.X_test)[:, 0])
            result["progress"] = float(1 - np.linalg.norm(w - self.w_ls) / np.linalg.norm(self.w_ls))
            result["diverged_at"] = None
        self._cache[key] = result
        return result

    def sweep(self, momentum=0.0):
        """run_gd at learning rates 10^-4, 10^-3.75, ... up to the slider's largest:
        (log10 lrs, list of results)."""
        lo, hi, _ = LOG10_LR_RANGE
        logs = np.round(np.arange(lo, hi + 0.01, 0.25), 2)
        return logs, [self.run_gd(_lr(g), momentum) for g in logs]

    def summary(self, log10_lr=-3.0, momentum=0.0, html=True):
        """The readout: learning rate and momentum, then test MSE and roughness against the
        least-squares fit's and the truth's (html=False: plain text, for print)."""
        text = self._summary(log10_lr, momentum)
        if html:
            return text
        return text.replace("<b>", "").replace("</b>", "").replace("&sup2;", "²")

    def _summary(self, log10_lr, momentum):
        lr = _lr(log10_lr)
        r = self.run_gd(lr, momentum)
        unit = self.data.series.unit
        head = f"lr = {lr:g}, momentum = {momentum:.2f}, {self.epochs} epochs: "
        if r["diverged_at"] is not None:
            return head + (f"<b>diverged in epoch {r['diverged_at']}</b> (the minibatch loss on "
                           f"the scaled data passed 1000): the step is too large for this momentum")
        if r["progress"] < 0:
            where = ("the weights ended further from the least-squares weights than they started: "
                     "the steps overshoot")
        else:
            where = (f"the weights got {100 * r['progress']:.0f} % of the way from zero to the "
                     f"least-squares weights")
        return head + (f"test MSE <b>{r['mse']:.0f}</b> ({unit})&sup2; (fully trained, least "
                       f"squares: {self.ls['mse']:.0f}); roughness <b>{r['roughness']:.1f}</b> "
                       f"(truth: {self.truth_roughness:.1f}, least squares: "
                       f"{self.ls['roughness']:.1f}); {where}")

    def plot(self, log10_lr=-3.0, momentum=0.0, dpi=80):
        """Left: truth and predictions on the test stretch. Right: test MSE against roughness for
        every learning rate of the slider at this momentum, the current one marked."""
        import matplotlib.pyplot as plt

        from ...series import x_axis

        lr = _lr(log10_lr)
        r = self.run_gd(lr, momentum)
        x = x_axis(self.data.series.labels)[self.data.test_index]
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8), dpi=dpi,
                                       gridspec_kw={"width_ratios": [1.6, 1]})
        ax0.plot(x, self.truth, color="black", lw=2.2, label="truth")
        for (name, pred), c in zip(self.reference.items(), ("0.6", "tab:olive", "tab:cyan")):
            ax0.plot(x, pred, color=c, lw=1, ls="--", label=name)
        if r["pred"] is not None:
            ax0.plot(x, r["pred"], color="tab:red", lw=1.8, label=f"linear AR, lr {lr:g}")
        else:
            ax0.text(0.5, 0.5, f"diverged (lr {lr:g}, momentum {momentum:.2f})",
                     transform=ax0.transAxes, color="tab:red", ha="center", fontsize=13,
                     bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "tab:red"})
        ax0.set_ylabel(self.data.series.unit)
        ax0.set_title("one-step-ahead predictions on the test stretch")
        ax0.legend(fontsize=7, loc="upper left")

        logs, runs = self.sweep(momentum)
        ok = [(g, q) for g, q in zip(logs, runs) if q["diverged_at"] is None]
        ax1.plot([q["roughness"] for _, q in ok], [q["mse"] for _, q in ok], "-", color="tab:red",
                 alpha=0.35, lw=1.2, label=f"all learning rates, momentum {momentum:.2f}")
        if ok:
            first, last = ok[0], ok[-1]
            for g, q in (first, last):
                ax1.annotate(f"lr {_lr(g):g}", (q["roughness"], q["mse"]), fontsize=7,
                             textcoords="offset points", xytext=(4, 4))
        if r["pred"] is not None:
            ax1.plot(r["roughness"], r["mse"], "o", color="tab:red", ms=8, label="this run")
        ax1.plot(self.ls["roughness"], self.ls["mse"], "k*", ms=10, label="least squares")
        for (name, pred), c in zip(self.reference.items(), ("0.6", "tab:olive", "tab:cyan")):
            q = self._score_units(pred)
            ax1.plot(q["roughness"], q["mse"], "s", color=c, ms=6, label=name)
        ax1.axvline(self.truth_roughness, color="black", ls=":", lw=1, label="roughness of the truth")
        ax1.set_yscale("log")
        ax1.set_xlabel(f"roughness ({self.data.series.unit})")
        ax1.set_ylabel(f"test MSE ({self.data.series.unit})²")
        ax1.set_title("smooth is not the same as good")
        ax1.legend(fontsize=6.5, loc="upper right")
        fig.tight_layout()
        return fig

    def _score_units(self, pred):
        from ..smoothness import roughness

        return {"mse": float(np.mean((pred - self.truth) ** 2)), "roughness": roughness(pred)}


def race_widget(demo, log10_lr=-3.0, momentum=0.0):
    """Sliders for log10(learning rate) and momentum, wired to `demo` (a LearningRateDemo)."""
    lo, hi, step = LOG10_LR_RANGE
    return interact(
        demo.plot, demo.summary,
        log10_lr=slider("log10 learning rate", lo, hi, step, log10_lr, fmt=".1f"),
        momentum=slider("momentum", 0.0, 0.95, 0.05, momentum, fmt=".2f"),
    )


# --- the conditioning demo: centre and scale the input of the same linear model -------------

class ConditioningDemo:
    """Gradient descent with momentum (full batch, so that nothing but the curvature matters) on
    the same linear autoregression (weights . last 12 values + bias), fed the sunspot windows as
    (x - offset) / divide_by. Every such input gives the same least-squares
    fit (the transformation is affine), so only the road to it changes. The road is set by the
    curvature of the training loss: its Hessian H = 2 A^T A / n (A: the inputs with a column of
    ones for the bias). A step may be at most about 2 (1 + momentum) / lambda_max before the
    steepest direction overshoots, so the learning rate is `lr_factor` / lambda_max, and the
    flattest direction then moves only lambda_min / lambda_max as fast: the condition number
    kappa = lambda_max / lambda_min is what centring and scaling change. `run` trains once
    (cached), `summary` is the readout, `plot` the figure, `conditioning_widget` the sliders."""

    def __init__(self, data, steps=200, momentum=0.9):
        self.data, self.steps, self.momentum = data, steps, momentum
        self.U_train = _flat(data.scaled_input_units(data.X_train))  # the series' units
        self.U_test = _flat(data.scaled_input_units(data.X_test))
        self.y_train = np.asarray(data.y_train, np.float64)
        self.truth = np.asarray(data.y_test_units, np.float64)
        self.mean, self.std = data.scaler.mean, data.scaler.std
        A = np.hstack([self.U_train, np.ones((len(self.U_train), 1))])
        coef = np.linalg.lstsq(A, self.y_train[:, 0], rcond=None)[0]
        self.min_loss = float(np.mean((A @ coef - self.y_train[:, 0]) ** 2))
        self._cache = {}

    def inputs(self, offset, divide_by):
        return (self.U_train - offset) / divide_by, (self.U_test - offset) / divide_by

    def hessian_eigenvalues(self, offset, divide_by):
        """Eigenvalues of the training loss's Hessian (weights and bias), largest first."""
        X, _ = self.inputs(offset, divide_by)
        A = np.hstack([X, np.ones((len(X), 1))])
        return np.sort(np.linalg.eigvalsh(2 * A.T @ A / len(A)))[::-1]

    def run(self, offset=0.0, divide_by=1.0, lr_factor=1.0):
        """Train from zero weights with lr = lr_factor / lambda_max; returns a dict: lr, kappa,
        eig (the Hessian's eigenvalues), curve (training MSE after each step, scaled target),
        excess (final training MSE / least-squares minimum - 1), test_mse (series' units, None
        if diverged), pred, diverged_at."""
        from ...layers import Linear
        from ...losses import MSELoss
        from ...optim import Momentum

        key = (round(float(offset), 6), round(float(divide_by), 6), round(float(lr_factor), 6))
        if key in self._cache:
            return self._cache[key]
        eig = self.hessian_eigenvalues(offset, divide_by)
        lr = lr_factor / eig[0]
        X, X_test = self.inputs(offset, divide_by)
        model = Linear(X.shape[1], 1, dtype=np.float64)
        model.params["W"][...] = 0.0
        model.params["b"][...] = 0.0
        loss_fn, opt = MSELoss(), Momentum(model, lr, self.momentum)
        curve, diverged_at = [], None
        with np.errstate(all="ignore"):
            for step in range(1, self.steps + 1):
                loss = loss_fn.forward(model.forward(X), self.y_train)
                if not np.isfinite(loss) or loss > 1e6:
                    diverged_at = step
                    break
                curve.append(loss)
                model.backward(loss_fn.backward())
                opt.step()
            if diverged_at is None:
                curve.append(float(np.mean((model.forward(X) - self.y_train) ** 2)))
        out = {"lr": lr, "eig": eig, "kappa": float(eig[0] / eig[-1]), "curve": np.array(curve),
               "diverged_at": diverged_at, "pred": None, "test_mse": None, "excess": np.inf}
        if diverged_at is None:
            out["pred"] = self.data.to_units(model.forward(X_test)[:, 0])
            out["test_mse"] = float(np.mean((out["pred"] - self.truth) ** 2))
            out["excess"] = curve[-1] / self.min_loss - 1
        self._cache[key] = out
        return out

    def summary(self, offset=0.0, divide_by=1.0, lr_factor=1.0, html=True):
        r = self.run(offset, divide_by, lr_factor)
        head = (f"input (x - {offset:g}) / {divide_by:g}: condition number <b>{r['kappa']:.3g}</b>, "
                f"lr {lr_factor:g} / lambda_max = {r['lr']:.3g}; ")
        if r["diverged_at"] is not None:
            text = head + f"<b>diverged at step {r['diverged_at']}</b>: the steepest direction overshoots"
        else:
            text = head + (f"after {self.steps} steps the training MSE is <b>{r['excess']:.2g}</b> above "
                           f"its minimum (relative), test MSE {r['test_mse']:.0f} "
                           f"({self.data.series.unit})&sup2;")
        return text if html else text.replace("<b>", "").replace("</b>", "").replace("&sup2;", "²")

    def plot(self, offset=0.0, divide_by=1.0, lr_factor=1.0, dpi=80):
        """Left: the Hessian's eigenvalues (the curvature in each direction). Middle: training MSE
        above its minimum per step, this input and the centred and scaled one. Right: the test
        predictions."""
        import matplotlib.pyplot as plt

        from ...series import x_axis

        r = self.run(offset, divide_by, lr_factor)
        ref = self.run(self.mean, self.std, lr_factor)
        fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(12, 3.6), dpi=dpi,
                                            gridspec_kw={"width_ratios": [0.8, 1, 1.4]})
        k = np.arange(1, len(r["eig"]) + 1)
        ax0.semilogy(k, ref["eig"], "o", color="0.6", ms=5, label="centred and scaled")
        ax0.semilogy(k, r["eig"], "o", color="tab:red", ms=5, label="this input")
        ax0.set_xlabel("direction (largest curvature first)")
        ax0.set_ylabel("curvature (Hessian eigenvalue)")
        ax0.set_title(f"condition number {r['kappa']:.3g}")
        ax0.legend(fontsize=7)
        for run, c, label in ((ref, "0.6", "centred and scaled"), (r, "tab:red", "this input")):
            if len(run["curve"]):
                ax1.semilogy(np.arange(len(run["curve"])), np.maximum(run["curve"] / self.min_loss - 1, 1e-12),
                             color=c, lw=1.8, label=label)
        ax1.set_xlabel("step")
        ax1.set_ylabel("training MSE / its minimum - 1")
        ax1.set_title(f"momentum {self.momentum:g}, lr {lr_factor:g} / largest curvature")
        ax1.set_ylim(1e-12, None)
        ax1.legend(fontsize=7)
        x = x_axis(self.data.series.labels)[self.data.test_index]
        ax2.plot(x, self.truth, color="black", lw=2.2, label="truth")
        if ref["pred"] is not None:
            ax2.plot(x, ref["pred"], color="0.6", lw=1.2, label="centred and scaled")
        if r["pred"] is not None:
            ax2.plot(x, r["pred"], color="tab:red", lw=1.6, label="this input")
        else:
            ax2.text(0.5, 0.5, f"diverged at step {r['diverged_at']}", transform=ax2.transAxes,
                     color="tab:red", ha="center", fontsize=12)
        ax2.set_ylabel(self.data.series.unit)
        ax2.set_title("predictions on the test stretch")
        ax2.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        return fig


def conditioning_widget(demo, offset=0.0, divide_by=1.0, lr_factor=1.0):
    """Subtract an offset from the sunspot input, divide it by a scale and set the learning rate:
    the figure redraws the loss's curvature in each direction, the training loss step by step and
    the forecasts. Centring and scaling shrink the condition number, so the same descent gets far
    closer to the best fit in the same number of steps.

    The learning rate is `lr_factor` / the largest curvature; `demo` is a ConditioningDemo."""
    return interact(
        demo.plot, demo.summary,
        offset=slider("subtract (offset)", 0.0, 60.0, 1.0, offset, fmt=".0f"),
        divide_by=slider("divide by (scale)", 1.0, 40.0, 1.0, divide_by, fmt=".0f"),
        lr_factor=slider("lr x largest curvature", 0.1, 4.0, 0.1, lr_factor, fmt=".1f"),
    )
