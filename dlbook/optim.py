"""Optimizers: the gradient-descent update rule and two refinements — book page:
docs/03-training/gradient-descent.md.

Every optimizer has ``update(params, grads)``: ``params`` and ``grads`` are dicts with the same
keys (e.g. :attr:`dlbook.models.Sequential.params` / ``.grads``) and arrays of matching shapes;
each parameter array is changed **in place**, so the layers holding it see the new values.

- :class:`SGD` — ``w <- w - lr * dE/dw`` (the course's 梯度递减训练法则)
- :class:`Momentum` — ``v <- momentum * v - lr * g;  w <- w + v``
- :class:`Adam` — bias-corrected first and second moment estimates (Kingma & Ba, 2015),
  the same arithmetic as ``torch.optim.Adam``.

``weight_decay=λ`` (权重衰减, L2 regularisation) adds ``λ * w`` to every gradient before the update,
as ``torch.optim`` does: it is the gradient of the penalty ``λ/2 * ||w||^2`` added to the loss, so
large weights shrink a little at every step. Updates keep the parameters' dtype (a float32 network stays float32) and reuse one buffer per
parameter instead of allocating temporaries every step.
"""

import numpy as np
from numba import njit

from ._validate import FLOAT_DTYPES, as_float_array, check_float_dtype

_FLOATS = tuple(np.dtype(t) for t in FLOAT_DTYPES)

__all__ = ["SGD", "Momentum", "Adam"]


def _check_rate(value, name, low=0.0, high=None, low_inclusive=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    bad_low = v < low if low_inclusive else v <= low
    if not np.isfinite(v) or bad_low or (high is not None and v >= high):
        rng = f"{'[' if low_inclusive else '('}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"{name}: expected a value in {rng}, got {value!r}")
    return v


@njit(cache=True)
def _axpy_inplace(p, g, a):
    """p += a * g over flat contiguous arrays, one pass (no temporary)."""
    for i in range(p.size):
        p[i] += a * g[i]


class Optimizer:
    """Base class: checks params and grads, keeps per-parameter state.

    ``update`` is atomic: every pair is checked before any parameter changes, so an update that
    raises leaves the parameters and the optimizer's state as they were.
    """

    def __init__(self, lr, weight_decay=0.0):
        self.lr = _check_rate(lr, "lr")
        self.weight_decay = _check_rate(weight_decay, "weight_decay", 0.0, low_inclusive=True)
        self.state = {}

    def _checked_pairs(self, params, grads):
        """``[(key, param, grad)]`` with every grad a float array of its param's shape and dtype."""
        name = f"{type(self).__name__}.update"
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise TypeError(f"{name}: expected params and grads as dicts, got {type(params).__name__} and {type(grads).__name__}")
        if params.keys() != grads.keys():
            missing = sorted(set(params) ^ set(grads), key=str)
            raise ValueError(f"{name}: expected grads with the keys of params, differing keys {missing}")
        pairs = []
        for k, p in params.items():
            g = grads[k]
            # The usual case (float ndarrays of one dtype and shape, writeable) takes no conversion;
            # anything else goes through the full checks, which name what is wrong.
            usual = (type(p) is np.ndarray and type(g) is np.ndarray and g.dtype == p.dtype and g.shape == p.shape
                     and p.dtype in _FLOATS and p.flags.writeable)
            if not usual:
                g = self._checked_grad(name, k, p, g)
            st = self.state.get(k)
            if st and st["shape"] != p.shape:
                raise ValueError(
                    f"{name}: params[{k!r}] changed shape from {st['shape']} to {p.shape} since the last "
                    "update; its optimizer state no longer fits (make a new optimizer)"
                )
            if self.weight_decay:
                g = g + self.weight_decay * p  # L2: the gradient of weight_decay/2 * ||p||^2
            pairs.append((k, p, g))
        return pairs

    @staticmethod
    def _checked_grad(name, k, p, g):
        """Full checks of one pair: ``params[k]`` a writeable float32/float64 ndarray, ``grads[k]``
        a real array of its shape (returned in its dtype)."""
        check_float_dtype(p, f"{name}: params[{k!r}]")
        if not p.flags.writeable:
            raise ValueError(f"{name}: expected params[{k!r}] to be writeable (it is updated in place), got a read-only array")
        g = as_float_array(g, f"{name}: grads[{k!r}]")
        if g.shape != p.shape:
            raise ValueError(f"{name}: expected grads[{k!r}] of shape {p.shape}, got {g.shape}")
        return g.astype(p.dtype, copy=False)

    def _state(self, key, p, *slots):
        """The per-parameter state dict, with zero buffers named ``slots`` of p's shape and dtype."""
        st = self.state.setdefault(key, {"shape": p.shape, "step": 0})
        for slot in slots:
            if st.get(slot) is None or st[slot].dtype != p.dtype:
                st[slot] = np.zeros_like(p)
        return st

    def update(self, params, grads):
        """Change every ``params[k]`` in place by its ``grads[k]``."""
        for k, p, g in self._checked_pairs(params, grads):
            self._step(k, p, g)

    def _step(self, key, p, g):
        raise NotImplementedError

    def _extra_repr(self):
        return f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g}{self._extra_repr()})"


class SGD(Optimizer):
    """Stochastic gradient descent: ``w <- w - lr * g`` for every parameter, in place."""

    def __init__(self, lr=0.01, weight_decay=0.0):
        super().__init__(lr, weight_decay)

    def _step(self, key, p, g):
        if p.flags.c_contiguous and g.flags.c_contiguous:
            _axpy_inplace(p.reshape(-1), g.reshape(-1), p.dtype.type(-self.lr))
        else:
            p -= self.lr * g


class Momentum(SGD):
    """SGD with momentum: ``v <- momentum * v - lr * g;  w <- w + v`` (v starts at 0)."""

    def __init__(self, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum = _check_rate(momentum, "momentum", 0.0, 1.0, low_inclusive=True)

    def _step(self, key, p, g):
        st = self._state(key, p, "v", "tmp")
        v, tmp = st["v"], st["tmp"]
        v *= self.momentum
        np.multiply(g, self.lr, out=tmp)
        v -= tmp
        p += v

    def __repr__(self):
        return f"Momentum(lr={self.lr:g}, momentum={self.momentum:g}{self._extra_repr()})"


class Adam(Optimizer):
    """Adam: ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``w <- w - lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``.

    ``t`` counts the updates of each parameter (``state[key]["step"]``), as in ``torch.optim.Adam``.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.beta1 = _check_rate(beta1, "beta1", 0.0, 1.0, low_inclusive=True)
        self.beta2 = _check_rate(beta2, "beta2", 0.0, 1.0, low_inclusive=True)
        self.eps = _check_rate(eps, "eps", 0.0, low_inclusive=True)

    @property
    def t(self):
        """The number of updates so far (the largest per-parameter step count)."""
        return max((st["step"] for st in self.state.values()), default=0)

    def _step(self, key, p, g):
        st = self._state(key, p, "m", "v", "tmp")
        st["step"] += 1
        m, v, tmp = st["m"], st["v"], st["tmp"]
        b1, b2 = self.beta1, self.beta2
        c1 = 1.0 - b1 ** st["step"]
        c2 = 1.0 - b2 ** st["step"]
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # p -= lr * (m / c1) / (sqrt(v / c2) + eps)
        np.divide(v, c2, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / c1
        p -= tmp

    def __repr__(self):
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, eps={self.eps:g}{self._extra_repr()})"
