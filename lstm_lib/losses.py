"""Losses: mean squared error, and softmax cross-entropy over time."""
import numpy as np

from .activations import log_softmax
from .validation import as_float_array, check_int_targets, check_rank


class MSELoss:
    """0.5-free mean squared error, as torch.nn.MSELoss.

    reduction='mean' averages over every element; 'sum' adds them up (the gradient is then
    as large as the batch is long: chapter 12 shows what that does to training).
    """

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction
        self._cache = None

    def forward(self, pred, target):
        pred = as_float_array(pred, "pred", np.result_type(np.asarray(pred).dtype, np.float32))
        target = np.asarray(target, pred.dtype)
        if pred.shape != target.shape:
            raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
        diff = pred - target
        self._cache = diff
        loss = np.sum(diff * diff)
        return float(loss / diff.size if self.reduction == "mean" else loss)

    def backward(self):
        """Gradient of the loss w.r.t. pred."""
        if self._cache is None:
            raise ValueError("MSELoss.backward() called before forward(): run forward first")
        diff = self._cache
        return 2 * diff / diff.size if self.reduction == "mean" else 2 * diff

    __call__ = forward


class SoftmaxCrossEntropy:
    """Cross-entropy of softmax(logits) against integer targets, averaged over the
    non-ignored positions (as torch.nn.CrossEntropyLoss with ignore_index).

    logits: (batch, time, classes) or (N, classes); targets: (batch, time) or (N,) ints.
    """

    def __init__(self, ignore_index=None):
        self.ignore_index = ignore_index
        self._cache = None

    def forward(self, logits, targets):
        logits = np.asarray(logits)
        if logits.ndim not in (2, 3):
            check_rank(logits, 3, "(batch, time, classes)", "logits")
        logits = as_float_array(logits, "logits", logits.dtype)
        C = logits.shape[-1]
        targets = check_int_targets(targets, C, "targets", self.ignore_index)
        if targets.shape != logits.shape[:-1]:
            raise ValueError(f"targets must have shape {logits.shape[:-1]}, got {targets.shape}")
        logp = log_softmax(logits.reshape(-1, C))  # (N, C)
        t = targets.reshape(-1)
        mask = np.ones(t.shape, bool) if self.ignore_index is None else t != self.ignore_index
        count = int(mask.sum())
        if count == 0:
            raise ValueError("every target equals ignore_index: nothing to average")
        tt = np.where(mask, t, 0)
        picked = logp[np.arange(t.size), tt]
        self._cache = (logp, tt, mask, count, logits.shape)
        return float(-(picked * mask).sum() / count)

    def backward(self):
        """Gradient w.r.t. the logits: (softmax - one_hot) / count, zero at ignored positions."""
        if self._cache is None:
            raise ValueError("SoftmaxCrossEntropy.backward() called before forward()")
        logp, tt, mask, count, shape = self._cache
        d = np.exp(logp)
        d[np.arange(tt.size), tt] -= 1
        d *= (mask / count)[:, None]
        return d.reshape(shape)

    __call__ = forward
