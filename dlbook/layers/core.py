"""Dense layers as forward/backward classes — book page: docs/03-training/layers.md.

- :class:`Affine` — ``x @ W + b`` (全连接层, fully connected layer)
- :class:`ReLU`, :class:`Sigmoid`, :class:`Tanh` — elementwise activations
- :class:`SoftmaxWithLoss` — softmax and cross-entropy in one layer (mean over the batch)
- :class:`MeanSquaredLoss` — the course's MSE as a loss layer, for regression

Every layer follows :class:`dlbook.layers.base.Layer`: ``params``/``grads`` are dicts with the
same keys (``"W"``, ``"b"``), ``forward`` remembers what ``backward`` needs, and ``backward(dout)``
returns the gradient with respect to the input without ever modifying ``dout``. The activation
layers call :mod:`dlbook.activations`; the loss layers share their arithmetic with :mod:`dlbook.losses`.
Parameter arrays are kept by reference (no copy), so an optimizer or a numerical gradient
check that changes them in place changes the layer.
"""

import math

import numpy as np

from .. import cuda as _cuda  # light: numba.cuda is imported only when a device array shows up
from ..cuda.dispatch import on_device as _cuda_on_device
from .._validate import as_float_array, check_finite
from ..activations import relu, relu_grad, sigmoid, tanh
from ..losses import as_targets, fast_softmax_xent, log_softmax_xent, softmax_xent_backward
from .base import Layer, check_dout

__all__ = ["Affine", "ReLU", "Sigmoid", "Tanh", "SoftmaxWithLoss", "MeanSquaredLoss"]


def _compiled_ufunc(name):
    """The NumPy ufunc numba compiled for ``dlbook.activations.<name>`` (None if unavailable).

    The layers call it directly on arrays they already checked, skipping the public function's
    input checks and numba's Python-level dispatcher (a few microseconds per call, which matter
    at batch sizes of 100).
    """
    from .. import activations

    u = getattr(getattr(activations, name, None), "ufunc", None)
    return u if isinstance(u, np.ufunc) else None


_RELU = _compiled_ufunc("_relu")
_RELU_GRAD = _compiled_ufunc("_relu_grad")


def _scalar_dout(dout, name):
    """The upstream gradient of a loss layer as a Python float (a weak scalar: keeps float32)."""
    d = np.asarray(dout)
    if d.size != 1 or d.dtype.kind not in "biuf":
        raise ValueError(f"{name}.backward: expected a scalar dout, got shape {d.shape} dtype {d.dtype}")
    d = float(d.reshape(()))
    if not np.isfinite(d):
        raise ValueError(f"{name}.backward: expected a finite dout, got {d}")
    return d




class Affine(Layer):
    """Fully connected layer: ``out = x @ W + b``.

    W: (D, M), b: (M,) — kept by reference, float32 or float64.
    forward: x (N, D) -> (N, M); an input (N, d1, d2, ...) with d1*d2*... = D is flattened first.
    backward: dout (N, M) -> dx with x's original shape; sets ``grads["W"] = x.T @ dout`` (D, M)
    and ``grads["b"] = dout.sum(0)`` (M,). The input is cast to W's dtype, so a float32 layer
    stays float32 end to end. ``input_grad = False`` skips computing dx (``backward`` then
    returns None): the first layer of a network needs only its weight gradients.
    """

    def __init__(self, W, b):
        super().__init__()
        W = as_float_array(W, "W")
        b = as_float_array(b, "b")
        if W.ndim != 2:
            raise ValueError(f"Affine: expected W of shape (D, M), got shape {W.shape}")
        if b.shape != (W.shape[1],):
            raise ValueError(f"Affine: expected b of shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}")
        if b.dtype != W.dtype:
            b = b.astype(W.dtype)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.input_grad = True
        self.x = None
        self.x_shape = None

    # Familiar names (Deep Learning from Scratch): layer.W, layer.dW, ...
    W = property(lambda self: self.params["W"])
    b = property(lambda self: self.params["b"])
    dW = property(lambda self: self.grads["W"])
    db = property(lambda self: self.grads["b"])

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        if _cuda_on_device(x, W):  # GPU arrays: dlbook.cuda's tiled GEMM, bias in its epilogue
            self.x, self.x_shape = x, tuple(x.shape)
            return _cuda.affine_forward(x, W, b)
        if not (isinstance(x, np.ndarray) and x.dtype == W.dtype):
            x = as_float_array(x)
        if x.ndim < 1:
            raise ValueError(f"Affine: expected x of shape (N, {W.shape[0]}), got a scalar")
        if x.ndim == 1:  # one sample
            x = x[None, :]
        n = x.shape[0]
        feat = math.prod(x.shape[1:])
        if feat != W.shape[0]:
            raise ValueError(
                f"Affine: expected x of shape (N, {W.shape[0]}) (or (N, ...) with {W.shape[0]} "
                f"features per sample), got {x.shape}"
            )
        self.x_shape = x.shape
        x2 = x.reshape(n, feat)
        if x2.dtype != W.dtype:
            x2 = x2.astype(W.dtype)
        self.x = x2
        out = x2 @ W
        out += b
        return out

    def backward(self, dout):
        if self.x is None:
            raise ValueError("Affine.backward: call forward first")
        W = self.params["W"]
        if _cuda_on_device(dout, self.x):  # the forward ran on the GPU: so does the backward
            dx, self.grads["W"], self.grads["b"] = _cuda.affine_backward(dout, self.x, W)
            return dx if self.input_grad else None
        dout = check_dout(dout, (self.x.shape[0], W.shape[1]), "Affine").astype(W.dtype, copy=False)
        self.grads["W"] = self.x.T @ dout          # dL/dW = x^T dout
        self.grads["b"] = dout.sum(axis=0)         # dL/db = sum over the batch
        if not self.input_grad:
            return None
        return (dout @ W.T).reshape(self.x_shape)  # dL/dx = dout W^T


class ReLU(Layer):
    """Rectified linear unit: ``out = max(x, 0)``; ``dx = dout * (x > 0)``.

    x: any shape -> same shape. Uses :func:`dlbook.activations.relu` and ``relu_grad``.
    """

    def __init__(self):
        super().__init__()
        self.x = None

    def forward(self, x):
        x = as_float_array(x)
        self.x = x
        return _RELU(x) if _RELU is not None else relu(x)

    def backward(self, dout):
        if self.x is None:
            raise ValueError("ReLU.backward: call forward first")
        dout = check_dout(dout, self.x.shape, "ReLU")
        g = _RELU_GRAD(self.x) if _RELU_GRAD is not None else relu_grad(self.x)
        g *= dout
        return g


class Sigmoid(Layer):
    """Logistic sigmoid: ``out = 1 / (1 + exp(-x))``; ``dx = dout * out * (1 - out)``.

    x: any shape -> same shape. Uses :func:`dlbook.activations.sigmoid`.
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        if self.out is None:
            raise ValueError("Sigmoid.backward: call forward first")
        dout = check_dout(dout, self.out.shape, "Sigmoid")
        y = self.out
        return dout * y * (1 - y)


class Tanh(Layer):
    """Hyperbolic tangent: ``out = tanh(x)``; ``dx = dout * (1 - out**2)``.

    x: any shape -> same shape. Uses :func:`dlbook.activations.tanh`.
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = tanh(x)
        return self.out

    def backward(self, dout):
        if self.out is None:
            raise ValueError("Tanh.backward: call forward first")
        dout = check_dout(dout, self.out.shape, "Tanh")
        y = self.out
        return dout * (1 - y * y)


class SoftmaxWithLoss(Layer):
    """Softmax followed by cross-entropy, mean over the batch.

    forward(x, t): x (N, C) logits (or (C,), one sample); t one-hot (N, C) or integer labels (N,)
    -> the mean loss (float). Computed with the same log-sum-exp as
    :func:`dlbook.losses.softmax_cross_entropy` (no epsilon), so huge logits are fine.
    backward(dout=1.0) -> dx (shape of x) ``= dout * (softmax(x) - t) / N``.
    After forward, ``y`` holds the softmax probabilities.
    """

    def __init__(self):
        super().__init__()
        self.y = None
        self.t = None
        self.kind = None
        self.x_shape = None

    def forward(self, x, t):
        x = as_float_array(x)
        if (x.ndim == 2 and isinstance(t, np.ndarray) and t.dtype.kind in "iu"
                and t.shape == (x.shape[0],) and x.size):
            # Fast path (integer labels): one numba pass that also checks finiteness and range;
            # on anything suspicious it returns None and the checked path below explains.
            res = fast_softmax_xent(x, t)
            if res is not None:
                loss, self.y = res
                # A copy: the caller may change its label array before backward reads it.
                self.kind, self.t, self.x_shape = "labels", t.copy(), x.shape
                return loss
        if x.ndim not in (1, 2) or x.shape[-1] == 0 or x.size == 0:
            raise ValueError(f"SoftmaxWithLoss: expected x of shape (N, C) or (C,), got {x.shape}")
        return self._forward_rows(x, t)

    def _forward_rows(self, x, t):
        """The checked path: every leading axis of x is a row (a sample or a time step), the last axis the classes."""
        check_finite(x, "x")
        kind, t = as_targets(x, t)
        self.x_shape = x.shape
        x2 = x.reshape(-1, x.shape[-1])
        t2 = t.reshape(x2.shape[0]) if kind == "labels" else t.reshape(x2.shape)
        loss, self.y = log_softmax_xent(x2, kind, t2)
        self.kind, self.t = kind, t2.copy()  # a copy: the caller may change t before backward
        return loss

    def backward(self, dout=1.0):
        name = type(self).__name__
        if self.y is None:
            raise ValueError(f"{name}.backward: call forward first")
        if isinstance(dout, (int, float)) and not isinstance(dout, bool):
            d = float(dout)  # fast path for the usual dout=1.0
            if not np.isfinite(d):
                raise ValueError(f"{name}.backward: expected a finite dout, got {d}")
        else:
            d = _scalar_dout(dout, name)
        dx = softmax_xent_backward(self.y, self.kind, self.t, d / self.y.shape[0])
        return dx.reshape(self.x_shape)


class MeanSquaredLoss(Layer):
    """The course's MSE as a loss layer: ``loss = mean((y - t)**2)`` over every element.

    forward(y, t): y and t of one shape -> float. backward(dout=1.0) -> ``dout * 2 (y - t) / y.size``.
    """

    def __init__(self):
        super().__init__()
        self.diff = None

    def forward(self, y, t):
        y = as_float_array(y, "y")
        t = as_float_array(t, "t")
        if y.shape != t.shape:
            raise ValueError(f"MeanSquaredLoss: expected t with the shape of y {y.shape}, got {t.shape}")
        if y.size == 0:
            raise ValueError(f"MeanSquaredLoss: expected at least one element, got y of shape {y.shape}")
        check_finite(t, "t")
        self.diff = y - t.astype(y.dtype, copy=False)
        return float(np.vdot(self.diff, self.diff)) / self.diff.size

    def backward(self, dout=1.0):
        if self.diff is None:
            raise ValueError("MeanSquaredLoss.backward: call forward first")
        scale = 2.0 * _scalar_dout(dout, "MeanSquaredLoss") / self.diff.size
        return self.diff * scale
