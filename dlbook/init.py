"""Weight initialisation (权重初始化) — book pages: docs/03-training/layers.md and the labs.

A layer's starting weights are random numbers whose *scale* decides whether signals keep their
size through many layers. Two rules cover the book's networks:

- **He** (Kaiming, 2015), for ReLU: ``std = sqrt(2 / fan_in)``. ReLU zeroes half of its inputs,
  and the 2 makes up for the half it drops.
- **Xavier** (Glorot, 2010), for sigmoid and tanh: ``std = sqrt(2 / (fan_in + fan_out))``, a
  compromise that keeps both the forward signal and the backward gradient near their size.

``fan_in`` is how many inputs feed one output unit, ``fan_out`` how many outputs one input feeds,
read from dlbook's weight layouts (:func:`fans`):

- Affine ``W`` (D, M): fan_in D, fan_out M (LSTM/RNN ``Wx`` (D, 4H) and ``Wh`` (H, 4H) likewise);
- convolution ``w`` (K, C, R, S): fan_in C·R·S, fan_out K·R·S.

Each ``*_normal`` draws from a normal distribution with that std; each ``*_uniform`` from
``U(-a, a)`` with ``a = sqrt(3) * std`` (the same variance). ``rng`` is a
``numpy.random.Generator``, an int seed, or None (fresh randomness): pass one for reproducible weights.
"""

import math

import numpy as np

from ._validate import FLOAT_DTYPES, check_positive_int

__all__ = ["fans", "he_normal", "he_uniform", "xavier_normal", "xavier_uniform"]


def fans(shape):
    """``(fan_in, fan_out)`` of a weight of ``shape``: (D, M) -> (D, M); (K, C, R, S) -> (C·R·S, K·R·S).

    >>> fans((784, 100)), fans((6, 1, 5, 5))
    ((784, 100), (25, 150))
    """
    shape = tuple(shape)
    for n in shape:
        check_positive_int(n, f"shape {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        K, C, R, S = shape
        return C * R * S, K * R * S
    raise ValueError(f"fans: expected a weight shape (D, M) or (K, C, R, S), got {shape}")


def _draw(shape, std, rng, dtype, uniform):
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if uniform:
        a = math.sqrt(3.0) * std
        return rng.uniform(-a, a, tuple(shape)).astype(dtype)
    return (rng.standard_normal(tuple(shape)) * std).astype(dtype)


def he_normal(shape, rng=None, dtype=np.float64):
    """He initialisation for ReLU layers: normal, ``std = sqrt(2 / fan_in)``. shape -> array of shape."""
    fan_in, _ = fans(shape)
    return _draw(shape, math.sqrt(2.0 / fan_in), rng, dtype, uniform=False)


def he_uniform(shape, rng=None, dtype=np.float64):
    """He initialisation, uniform: ``U(-a, a)``, ``a = sqrt(6 / fan_in)``. shape -> array of shape."""
    fan_in, _ = fans(shape)
    return _draw(shape, math.sqrt(2.0 / fan_in), rng, dtype, uniform=True)


def xavier_normal(shape, rng=None, dtype=np.float64):
    """Xavier (Glorot) initialisation for sigmoid/tanh: normal, ``std = sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    return _draw(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype, uniform=False)


def xavier_uniform(shape, rng=None, dtype=np.float64):
    """Xavier (Glorot) initialisation, uniform: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    return _draw(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype, uniform=True)
