"""Layers that make training work — book page: docs/03-training/making-training-work.md.

- :class:`Dropout` (丢弃法, 随机失活) — in training, each unit is kept with probability ``1 - p`` and
  scaled by ``1 / (1 - p)`` (inverted dropout), so evaluation needs no change: the identity.
- :class:`BatchNorm` (批量归一化) — normalise each feature over the batch, then scale and shift by
  the learnt ``gamma`` and ``beta``; in evaluation, use running averages of the batch statistics.

Both read ``self.training`` (``model.train()`` / ``model.eval()``), as in PyTorch.
"""

import numpy as np

from .._validate import as_float_array, check_positive_int
from .base import Layer, check_dout

__all__ = ["Dropout", "BatchNorm"]


def _probability(p, name):
    try:
        v = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number in [0, 1), got {p!r}") from None
    if not 0 <= v < 1:
        raise ValueError(f"{name}: expected a number in [0, 1), got {p!r}")
    return v


class Dropout(Layer):
    """Inverted dropout: ``out = x * mask / (1 - p)`` in training, ``out = x`` in evaluation.

    p: the probability of dropping a unit, in [0, 1). x: any shape -> same shape.
    ``mask`` (bool, x's shape) keeps each unit with probability ``1 - p``, drawn from ``rng``
    (a Generator or a seed; the default seed 0 makes runs repeatable). backward: the gradient
    flows through the kept units only, scaled the same way.
    """

    def __init__(self, p=0.5, rng=0):
        super().__init__()
        self.p = _probability(p, "Dropout: p")
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.scale = None
        self.shape = None

    def forward(self, x):
        x = as_float_array(x)
        self.shape = x.shape
        if not self.training or self.p == 0:
            self.scale = None  # identity: backward passes dout through
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.scale = keep * x.dtype.type(1 / (1 - self.p))  # 0 for dropped units, 1/(1-p) for kept ones
        return x * self.scale

    def backward(self, dout):
        dout = check_dout(dout, self.saved(self.shape), "Dropout")
        return dout if self.scale is None else dout * self.scale

    @property
    def mask(self):
        """Which units the last training forward kept (None after an evaluation forward)."""
        return None if self.scale is None else self.scale > 0

    def __repr__(self):
        return f"Dropout(p={self.p:g})"


class BatchNorm(Layer):
    """Batch normalisation over (N, D) or (N, C, H, W) inputs, one mean and variance per feature
    (per channel for images): ``out = gamma * (x - mean) / sqrt(var + eps) + beta``.

    Training: mean and (biased) var of the batch, and running averages updated with
    ``running = (1 - momentum) * running + momentum * batch`` (the running variance unbiased, as
    in PyTorch). Evaluation: the running averages instead. params ``"gamma"`` (ones) and
    ``"beta"`` (zeros), shape (num_features,).
    """

    def __init__(self, num_features, momentum=0.1, eps=1e-5, dtype=np.float64):
        super().__init__()
        check_positive_int(num_features, "BatchNorm: num_features")
        self.momentum = _probability(momentum, "BatchNorm: momentum")
        self.eps = float(eps)
        if not self.eps > 0:
            raise ValueError(f"BatchNorm: expected eps > 0, got {eps!r}")
        self.params = {"gamma": np.ones(num_features, dtype), "beta": np.zeros(num_features, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(num_features, dtype)
        self.running_var = np.ones(num_features, dtype)
        self.cache = None

    def _rows(self, x):
        """x as rows (M, D): (N, D) itself, (N, C, H, W) with channels last."""
        D = self.params["gamma"].shape[0]
        if x.ndim not in (2, 4) or x.shape[1] != D:
            raise ValueError(f"BatchNorm: expected x of shape (N, {D}) or (N, {D}, H, W), got {x.shape}")
        return x if x.ndim == 2 else x.transpose(0, 2, 3, 1).reshape(-1, D)

    def _unrows(self, rows, shape):
        if len(shape) == 2:
            return rows
        N, C, H, W = shape
        return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)

    def forward(self, x):
        x = as_float_array(x).astype(self.params["gamma"].dtype, copy=False)
        rows = self._rows(x)
        if self.training:
            if rows.shape[0] < 2:
                raise ValueError(f"BatchNorm: expected more than one value per feature in training, got x of shape {x.shape}")
            mean, var = rows.mean(axis=0), rows.var(axis=0)
            m = rows.shape[0]
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * m / (m - 1)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (rows - mean) * inv_std
        self.cache = (x_hat, inv_std, x.shape, self.training)
        return self._unrows(x_hat * self.params["gamma"] + self.params["beta"], x.shape)

    def backward(self, dout):
        x_hat, inv_std, shape, trained = self.saved(self.cache)
        d = self._rows(check_dout(dout, shape, "BatchNorm").astype(x_hat.dtype, copy=False))
        self.grads["gamma"] = (d * x_hat).sum(axis=0)
        self.grads["beta"] = d.sum(axis=0)
        dx_hat = d * self.params["gamma"]
        if not trained:  # evaluation: mean and var are constants
            return self._unrows(dx_hat * inv_std, shape)
        # the batch's mean and var depend on every x: subtract their share of the gradient
        dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
        return self._unrows(dx, shape)

    def __repr__(self):
        return f"BatchNorm({self.params['gamma'].shape[0]}, momentum={self.momentum:g}, eps={self.eps:g})"
