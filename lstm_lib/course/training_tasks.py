"""The small tasks of chapters 07 and 08, written once for the notebooks and the experiments.

- `sine_batch`: predict the next value of sine waves with random phase and frequency.
- `echo_streams`: long streams of random +-1 whose target is the input `delay` steps earlier
  (truncated BPTT: learnable only if the window covers the delay).
- `first_sign_task`: remember the sign of the first input through `T - 1` noisy steps
  (the forget-gate bias; a missing `dc` carry).
"""
import numpy as np


def sine_batch(n=8, T=30, seed=0):
    """n sine waves with random phase and frequency: inputs (n, T, 1), next values (n, T, 1)."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    freq = rng.uniform(0.15, 0.35, (n, 1))
    s = np.sin(phase + freq * np.arange(T + 1)).astype(np.float32)[..., None]
    return s[:, :-1], s[:, 1:]


def echo_streams(n, T, delay=10, seed=0):
    """n streams of T random +-1 inputs (n, T, 1); the target at step t is the input at t - delay
    (0 for the first `delay` steps). Always predicting 0 gives MSE 1."""
    x = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, T, 1)).astype(np.float32)
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]  # target: the input `delay` steps ago
    return x, y


def first_sign_task(n, T, seed):
    """n sequences (n, T, 1): the first input is +1 or -1, the other T - 1 are noise (std 0.5);
    the target (n, 1) is the first input. Always predicting 0 gives MSE 1."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, T, 1)) * 0.5).astype(np.float32)
    sign = rng.choice([-1.0, 1.0], n).astype(np.float32)
    x[:, 0, 0] = sign  # the one thing to remember
    return x, sign[:, None]
