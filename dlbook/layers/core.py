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

Each layer's arithmetic is a small function beside it (:func:`affine`, :func:`relu_backward`, ...)
that reads like the formula; given GPU arrays, the same layer runs their numba.cuda twins
(:mod:`dlbook._dispatch`).
"""

import math

import numpy as np

from .._dispatch import dispatch
from .._validate import as_float_array, as_input, as_rows, check_finite
from ..activations import _relu_backward, relu, sigmoid, tanh
from ..losses import as_targets, log_softmax_xent, softmax_xent_backward
from .base import Layer, check_dout

__all__ = ["Affine", "ReLU", "Sigmoid", "Tanh", "SoftmaxWithLoss", "MeanSquaredLoss",
           "affine", "affine_backward", "relu_backward", "sigmoid_backward", "tanh_backward"]


# ------------------------------------------------------------------ the formulas


@dispatch("affine")
def affine(x, W, b):
    """The affine map: x (N, D) @ W (D, M) + b (M,) -> (N, M)."""
    out = x @ W
    out += b  # x @ W + b, the bias added in place (no second (N, M) array)
    return out


@dispatch("affine_backward")
def affine_backward(dout, x, W, need_dx=True):
    """Gradients of :func:`affine` for dout (N, M): ``dx = dout W^T`` (N, D) (None unless
    ``need_dx``), ``dW = x^T dout`` (D, M), ``db = sum_n dout`` (M,)."""
    dout = check_dout(dout, (x.shape[0], W.shape[1]), "Affine").astype(W.dtype, copy=False)
    return (dout @ W.T if need_dx else None), x.T @ dout, dout.sum(axis=0)


@dispatch("relu_backward")
def relu_backward(dout, x):
    """ReLU's gradient: ``dx = dout * [x > 0]`` (a switch: open where the input was positive).

    dout, x: one shape -> dx, x's dtype. As in torch, the switch is shut where ``x <= 0``, so an
    infinite ``dout`` there gives 0, not NaN, and a NaN input passes ``dout`` on.
    """
    dout = check_dout(dout, x.shape, "ReLU").astype(x.dtype, copy=False)
    return _relu_backward(dout, x)  # a numba loop of: 0 if x <= 0 else dout


@dispatch("sigmoid_backward")
def sigmoid_backward(dout, y):
    """Sigmoid's gradient from its output y: ``dx = dout * y * (1 - y)``."""
    return check_dout(dout, y.shape, "Sigmoid") * y * (1 - y)


@dispatch("tanh_backward")
def tanh_backward(dout, y):
    """Tanh's gradient from its output y: ``dx = dout * (1 - y**2)``."""
    return check_dout(dout, y.shape, "Tanh") * (1 - y * y)


def _scalar_dout(dout, name):
    """The upstream gradient of a loss layer as a Python float (a weak scalar: keeps float32)."""
    if type(dout) is float and math.isfinite(dout):  # the usual dout=1.0, checked at once
        return dout
    d = np.asarray(dout)
    if d.size != 1 or d.dtype.kind not in "biuf":
        raise ValueError(f"{name}.backward: expected a scalar dout, got shape {d.shape} dtype {d.dtype}")
    d = float(d.reshape(()))
    if not np.isfinite(d):
        raise ValueError(f"{name}.backward: expected a finite dout, got {d}")
    return d


# ------------------------------------------------------------------ the layers


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
        self.params = {"W": W, "b": b.astype(W.dtype, copy=False)}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(self.params["b"])}
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
        self.x_shape = np.shape(x)
        self.x = as_rows(x, W.shape[0], W.dtype, "Affine")  # (N, D): an image batch is flattened
        return affine(self.x, W, b)                          # x @ W + b

    def backward(self, dout):
        x = self.saved(self.x)
        dx, self.grads["W"], self.grads["b"] = affine_backward(dout, x, self.params["W"], need_dx=self.input_grad)
        return None if dx is None else dx.reshape(self.x_shape)


class ReLU(Layer):
    """Rectified linear unit: ``out = max(x, 0)``; ``dx = dout * (x > 0)``.

    x: any shape -> same shape. Uses :func:`dlbook.activations.relu` and :func:`relu_backward`.
    """

    def __init__(self):
        super().__init__()
        self.x = None

    def forward(self, x):
        self.x = as_input(x)
        return relu(self.x)

    def backward(self, dout):
        return relu_backward(dout, self.saved(self.x))


class Sigmoid(Layer):
    """Logistic sigmoid: ``out = 1 / (1 + exp(-x))``; ``dx = dout * out * (1 - out)``.

    x: any shape -> same shape. Uses :func:`dlbook.activations.sigmoid` and :func:`sigmoid_backward`.
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = sigmoid(as_input(x))
        return self.out

    def backward(self, dout):
        return sigmoid_backward(dout, self.saved(self.out))


class Tanh(Layer):
    """Hyperbolic tangent: ``out = tanh(x)``; ``dx = dout * (1 - out**2)``.

    x: any shape -> same shape. Uses :func:`dlbook.activations.tanh` and :func:`tanh_backward`.
    """

    def __init__(self):
        super().__init__()
        self.out = None

    def forward(self, x):
        self.out = tanh(as_input(x))
        return self.out

    def backward(self, dout):
        return tanh_backward(dout, self.saved(self.out))


class SoftmaxWithLoss(Layer):
    """Softmax followed by cross-entropy, mean over the batch.

    forward(x, t): x (N, C) logits (or (C,), one sample); t one-hot (N, C) or integer labels (N,)
    -> the mean loss (float). Computed with the same log-sum-exp as
    :func:`dlbook.losses.softmax_cross_entropy` (no epsilon), so huge logits are fine.
    backward(dout=1.0) -> dx (shape of x) ``= dout * (softmax(x) - t) / N``.
    After forward, ``y`` holds the softmax probabilities.
    """

    logits_layout = "(N, C) or (C,)"

    def __init__(self):
        super().__init__()
        self.y = None
        self.t = None
        self.kind = None
        self.x_shape = None

    def _check_logits(self, x):
        if x.ndim not in (1, 2) or x.size == 0:
            raise ValueError(f"{type(self).__name__}: expected x of shape {self.logits_layout}, got {tuple(x.shape)}")

    def forward(self, x, t):
        x = as_input(x)
        self._check_logits(x)
        kind, t = as_targets(x, t)
        self.kind, self.x_shape = kind, tuple(x.shape)
        n, C = math.prod(self.x_shape[:-1]), self.x_shape[-1]
        rows = x.reshape(n, C)  # every leading axis is a row: a sample, or a time step
        self.t = t.reshape((n,) if kind == "labels" else (n, C)).copy()  # a copy: the caller may change t
        loss, self.y = log_softmax_xent(rows, kind, self.t)
        return loss

    def backward(self, dout=1.0):
        y = self.saved(self.y)
        d = _scalar_dout(dout, type(self).__name__)
        return softmax_xent_backward(y, self.kind, self.t, d / y.shape[0]).reshape(self.x_shape)


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
        diff = self.saved(self.diff)
        return diff * (2.0 * _scalar_dout(dout, "MeanSquaredLoss") / diff.size)
