"""Numerical derivatives and gradient checking — book page: docs/03-training/derivatives.md.

- :func:`numerical_diff` — the central difference ``(f(x + h) - f(x - h)) / 2h`` (中心差分);
- :func:`numerical_gradient` — the same for every element of an array of any shape;
- :func:`rel_error` — the maximum relative error between two arrays (the CS231n definition),
  the number a gradient check reports: below about 1e-7 in float64 means the analytic
  gradient is right, above 1e-2 means it is wrong.

The central difference has error O(h^2) against O(h) for the forward difference
``(f(x + h) - f(x)) / h``. Run checks in float64: with float32 the rounding error of ``f``,
divided by ``2h``, swamps the answer.
"""

import numpy as np

from ._validate import as_float_array

__all__ = ["numerical_diff", "numerical_gradient", "rel_error"]


def _check_h(h, name):
    try:
        hv = float(h)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a positive step h, got {h!r}") from None
    if not (np.isfinite(hv) and hv > 0):
        raise ValueError(f"{name}: expected a positive step h, got {h!r}")
    return hv


def numerical_diff(f, x, h=1e-4):
    """Central-difference derivative of a function of one variable: ``(f(x+h) - f(x-h)) / (2h)``.

    x: a number (or an array, for an elementwise ``f``) -> a float (or an array of x's shape).
    """
    h = _check_h(h, "numerical_diff")
    if np.ndim(x) == 0:
        x = float(x)
        return (float(f(x + h)) - float(f(x - h))) / (2 * h)
    x = as_float_array(x)
    return (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2 * h)


def _scalar(value, where):
    v = np.asarray(value)
    if v.size != 1:
        raise ValueError(f"numerical_gradient: expected f to return a scalar, got shape {v.shape} {where}")
    return float(v.reshape(()))


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function ``f(x)`` by central differences, one element at a time.

    x: ndarray of any shape (float32 or float64), **changed in place while f runs and restored
    exactly afterwards**, so ``f`` may ignore its argument and read a shared array instead
    (e.g. ``lambda _: net.loss(x, t)`` with ``x = net.params["0.W"]``).
    Returns an array of x's shape and dtype with ``(f(x + h e_i) - f(x - h e_i)) / (2h)``.
    A list or number is first turned into a float64 array (then only that copy is perturbed).
    """
    h = _check_h(h, "numerical_gradient")
    if not (isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64)):
        x = as_float_array(x).copy()
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        try:
            x[idx] = old + h
            fp = _scalar(f(x), f"at index {idx}")
            x[idx] = old - h
            fm = _scalar(f(x), f"at index {idx}")
        finally:
            x[idx] = old  # restore the exact original value
        grad[idx] = (fp - fm) / (2 * h)
    return grad


def rel_error(a, b):
    """Maximum relative error ``max |a - b| / max(1e-8, |a| + |b|)``, elementwise (CS231n).

    a, b: arrays of one shape (or numbers) -> float. 0 means identical.
    """
    a = as_float_array(a, "a").astype(np.float64, copy=False)  # complex input is refused, not truncated
    b = as_float_array(b, "b").astype(np.float64, copy=False)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: expected arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("rel_error: expected finite values, got NaN or infinity")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
