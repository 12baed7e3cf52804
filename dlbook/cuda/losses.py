"""GPU softmax cross-entropy: the twins of :func:`dlbook.losses.log_softmax_xent` and
:func:`dlbook.losses.softmax_xent_backward` (integer labels, or one-hot rows turned into labels)."""

import math

import numpy as np

from ._util import cuda, dev, empty, grid1d
from .elementwise import softmax


@cuda.jit
def _xent_rows(x, labels, losses):
    # loss_n = logsumexp(x[n]) - x[n, t_n]  (the CPU's log-sum-exp form: no epsilon, no overflow)
    N, C = x.shape
    n = cuda.grid(1)
    stride = cuda.gridsize(1)
    while n < N:
        m = x[n, 0]
        for j in range(1, C):
            if x[n, j] > m:
                m = x[n, j]
        s = x[n, 0] - x[n, 0]
        for j in range(C):
            s += math.exp(x[n, j] - m)
        losses[n] = m + math.log(s) - x[n, labels[n]]
        n += stride


@cuda.jit
def _xent_bwd(y, labels, scale, dx):
    # dx = (softmax(x) - onehot(t)) * scale
    N, C = y.shape
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < N * C:
        n = i // C
        j = i - n * C
        v = y[n, j]
        if j == labels[n]:
            v -= 1
        dx[n, j] = v * scale
        i += stride


def _device_labels(kind, t, N, C, name):
    """Targets as int32 device labels (N,): integer labels, or exact one-hot rows (argmax)."""
    from . import to_host

    t = np.asarray(to_host(t))
    if kind == "onehot":
        if t.shape != (N, C) or not np.all((t == 0) | (t == 1)) or not np.all(t.sum(axis=1) == 1):
            raise ValueError(f"{name}: on the GPU, expected integer labels or exact one-hot rows ({N}, {C})")
        t = t.argmax(axis=1)
    if t.shape != (N,) or t.dtype.kind not in "iu" or (t.size and (t.min() < 0 or t.max() >= C)):
        raise ValueError(f"{name}: expected integer labels ({N},) in [0, {C}), got shape {t.shape}")
    return cuda.to_device(t.astype(np.int32))


def log_softmax_xent(x, kind, t):
    """GPU twin: x (N, C) device logits -> (mean loss as a float, softmax probabilities on the device)."""
    x = dev(x, "x", "log_softmax_xent", ndim=2)
    N, C = tuple(x.shape)
    labels = _device_labels(kind, t, N, C, "log_softmax_xent")
    losses = empty((N,), x.dtype)
    _xent_rows[grid1d(N)](x, labels, losses)
    loss = float(losses.copy_to_host().astype(np.float64).mean())
    if not math.isfinite(loss):
        raise ValueError("softmax cross-entropy: expected finite logits, got NaN or infinity")
    return loss, softmax(x)


def softmax_xent_backward(y, kind, t, scale):
    """GPU twin: ``scale * (y - onehot(t))`` for the device probabilities y (N, C)."""
    y = dev(y, "y", "softmax_xent_backward", ndim=2)
    N, C = tuple(y.shape)
    labels = _device_labels(kind, t, N, C, "softmax_xent_backward")
    dx = empty((N, C), y.dtype)
    _xent_bwd[grid1d(N * C)](y, labels, y.dtype.type(scale), dx)
    return dx
