"""Activation functions (激活函数) and their derivatives — book page: docs/02-networks/activations.md.

Every function takes an array (or anything ``np.asarray`` accepts) of any shape and returns
an array of the same shape and dtype: float32 stays float32, float64 stays float64,
integers become float64. Non-numeric input raises ``ValueError``.

GPU arrays run the numba.cuda twins (``@dispatch``, see :mod:`dlbook._dispatch`).
The elementwise kernels are numba ufuncs, each compiled for a dtype on its first call with it
(:mod:`dlbook._lazy`: importing costs no compilation) and cached on disk. Beside each one sits the plain NumPy formula it must agree with
(``REFERENCE[name]``); tests/test_activations.py checks that they do.
"""

import numpy as np
from numba import njit

from ._dispatch import dispatch
from ._lazy import lazy_vectorize
from ._validate import as_float_array

__all__ = [
    "step",
    "sigmoid",
    "tanh",
    "relu",
    "softmax",
    "sigmoid_grad",
    "tanh_grad",
    "relu_grad",
    "REFERENCE",
]

# The compiled loops compare with SIMD instructions that set the "invalid" flag on NaN,
# which numpy would report as a RuntimeWarning; NaN in gives a defined result out, so
# the comparison kernels run with that flag ignored.
def _quiet_nan():
    return np.errstate(invalid="ignore")


@lazy_vectorize()
def _step(x):
    return 1.0 if x >= 0 else 0.0


@lazy_vectorize()
def _sigmoid(x):
    # Two branches so exp never overflows: exp(-x) for x >= 0, exp(x) for x < 0.
    if x >= 0:
        return 1.0 / (1.0 + np.exp(-x))
    z = np.exp(x)
    return z / (1.0 + z)


@lazy_vectorize()
def _sigmoid_grad(x):
    if x >= 0:
        s = 1.0 / (1.0 + np.exp(-x))
    else:
        z = np.exp(x)
        s = z / (1.0 + z)
    return s * (1.0 - s)


@lazy_vectorize()
def _tanh_grad(x):
    t = np.tanh(x)
    return 1.0 - t * t


# ReLU and its backward run on every layer call of a network, so they are plain loops over the
# flat arrays instead of ufuncs: numpy checks a ufunc's floating-point flags, a NaN comparison
# sets "invalid", and silencing that (np.errstate) cost more than the work itself.
@njit(cache=True)
def _relu_loop(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = v if (v > 0 or v != v) else 0.0  # NaN passes through, as in np.maximum(x, 0)


@njit(cache=True)
def _relu_backward_loop(dout, x, out):
    for i in range(x.size):
        out[i] = 0.0 if x[i] <= 0 else dout[i]  # torch's rule: blocked where x <= 0 (a NaN x passes)


def _elementwise(loop, *arrays):
    """Run ``loop(*flat arrays, flat out)``; the result has the last array's shape and dtype."""
    last = arrays[-1]
    out = np.empty(last.shape, last.dtype)
    loop(*(np.ascontiguousarray(a).reshape(-1) for a in arrays), out.reshape(-1))
    return out


def _relu_backward(dout, x):
    """``dout`` where ``x > 0``, else 0, as torch computes it: 0 where ``x <= 0`` (even for an
    infinite or NaN ``dout``), ``dout`` elsewhere (also where ``x`` is NaN). Same shapes and
    dtypes expected (:func:`dlbook.layers.core.relu_backward` checks them)."""
    return _elementwise(_relu_backward_loop, dout, x)


@lazy_vectorize()
def _relu_grad(x):
    return 1.0 if x > 0 else 0.0


@dispatch("step")
def step(x):
    """Step function (阶跃函数): 1 where ``x >= 0``, else 0.

    x: any shape -> same shape and dtype.
    """
    x = as_float_array(x)
    with _quiet_nan():
        return _step(x)


@dispatch("sigmoid")
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, in (0, 1); never overflows.

    x: any shape -> same shape and dtype.
    """
    return _sigmoid(as_float_array(x))


@dispatch("sigmoid_grad")
def sigmoid_grad(x):
    """Derivative of :func:`sigmoid` at ``x``: ``s * (1 - s)`` with ``s = sigmoid(x)``.

    x: any shape -> same shape and dtype.
    """
    return _sigmoid_grad(as_float_array(x))


@dispatch("tanh")
def tanh(x):
    """Hyperbolic tangent ``(1 - exp(-2x)) / (1 + exp(-2x))``, in (-1, 1).

    x: any shape -> same shape and dtype. (NumPy's ``tanh`` is already a fast,
    overflow-free ufunc, so this one only checks and passes the input on.)
    """
    return np.tanh(as_float_array(x))


@dispatch("tanh_grad")
def tanh_grad(x):
    """Derivative of :func:`tanh` at ``x``: ``1 - tanh(x)**2``.

    x: any shape -> same shape and dtype.
    """
    return _tanh_grad(as_float_array(x))


@dispatch("relu")
def relu(x):
    """Rectified linear unit (修正线性单元): ``x`` where ``x > 0``, else 0.

    x: any shape -> same shape and dtype.
    """
    return _elementwise(_relu_loop, as_float_array(x))


@dispatch("relu_grad")
def relu_grad(x):
    """Derivative of :func:`relu` at ``x``: 1 where ``x > 0``, else 0 (0 at ``x == 0`` too).

    x: any shape -> same shape and dtype.
    """
    x = as_float_array(x)
    with _quiet_nan():
        return _relu_grad(x)


@dispatch("softmax")
def softmax(x, axis=-1):
    """Softmax along ``axis``: ``exp(x_i) / sum_j exp(x_j)``; each slice sums to 1.

    x: any shape with at least one dimension -> same shape and dtype.
    Subtracting the maximum first leaves the result unchanged (the common factor
    ``exp(-max)`` cancels) and keeps every ``exp`` at most 1, so any finite input
    works, e.g. ``[1000, 1001, 1002]``.
    """
    x = as_float_array(x)
    if x.ndim == 0:
        raise ValueError("softmax: expected an array with at least 1 dimension, got a scalar")
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"softmax: axis must be an integer, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"softmax: axis {axis} is out of range for an array of shape {x.shape}")
    if x.shape[axis] == 0:
        raise ValueError(f"softmax: axis {axis} of an array of shape {x.shape} is empty; nothing to normalise")
    # x - max can only overflow towards -inf (e.g. -1.7e308 - 1.7e308), and exp(-inf) = 0
    # is then the right share, so that overflow is not worth a warning.
    with np.errstate(over="ignore"):
        z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def _ref_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# Plain NumPy formulas, the oracle the numba kernels are tested against.
REFERENCE = {
    "step": lambda x: np.where(x >= 0, 1.0, 0.0).astype(x.dtype),
    "sigmoid": _ref_sigmoid,
    "sigmoid_grad": lambda x: _ref_sigmoid(x) * (1 - _ref_sigmoid(x)),
    "tanh": lambda x: (1 - np.exp(-2 * x)) / (1 + np.exp(-2 * x)),
    "tanh_grad": lambda x: 1 - np.tanh(x) ** 2,
    "relu": lambda x: np.maximum(x, 0),
    "relu_grad": lambda x: (x > 0).astype(x.dtype),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
}
