"""Convolution and pooling layers — book pages: docs/04-cnn-rnn/convolution.md, pooling.md and
cnn-architectures.md; functions in :mod:`dlbook.conv` and :mod:`dlbook.pooling`.

- :class:`Conv2d` — ``conv2d(x, W, b, stride, pad)``; W: (K, C, R, S), b: (K,)
- :class:`MaxPool2d`, :class:`AvgPool2d` — no parameters, channels kept
- :class:`Flatten` — (N, C, H, W) -> (N, C*H*W), the bridge to :class:`~dlbook.layers.Affine`
- :class:`ResidualBlock` — ResNet's ``relu(x + conv(relu(conv(x))))`` (same shape in and out)

All follow :class:`dlbook.layers.base.Layer`: ``forward`` remembers its input, ``backward(dout)``
returns dx, fills ``grads`` and never modifies ``dout``. Parameters are kept by reference.
"""

import numpy as np

from .. import init
from .._validate import as_float_array, as_input, check_ndim
from ..conv import conv2d, conv2d_backward
from ..pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from .base import Layer, check_dout

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "ResidualBlock"]


class Conv2d(Layer):
    """Convolution layer (卷积层): ``out = conv2d(x, W, b, stride, pad)``.

    W: (K, C, R, S), b: (K,). forward: x (N, C, H, W) -> (N, K, OH, OW).
    backward: dout (N, K, OH, OW) -> dx (N, C, H, W); sets ``grads["W"]`` and ``grads["b"]``.
    The input is cast to W's dtype. ``input_grad = False`` skips dx (a network's first layer
    needs only its weight gradients; :meth:`dlbook.models.Sequential.gradient` uses this).
    """

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__()
        W = as_float_array(W, "W")
        b = as_float_array(b, "b")
        check_ndim(W, 4, "W", "(K, C, R, S)")
        if b.shape != (W.shape[0],):
            raise ValueError(f"Conv2d: expected b of shape ({W.shape[0]},) to match W {W.shape}, got {b.shape}")
        self.params = {"W": W, "b": b.astype(W.dtype, copy=False)}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(self.params["b"])}
        self.stride, self.pad = stride, pad
        self.input_grad = True
        self.x = None

    W = property(lambda self: self.params["W"])
    b = property(lambda self: self.params["b"])

    def forward(self, x):
        self.x = as_input(x, self.params["W"].dtype)
        return conv2d(self.x, self.params["W"], self.params["b"], stride=self.stride, pad=self.pad)

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = conv2d_backward(
            dout, self.saved(self.x), self.params["W"], stride=self.stride, pad=self.pad, need_dx=self.input_grad
        )
        return dx

    def __repr__(self):
        return f"Conv2d(W={self.params['W'].shape}, stride={self.stride}, pad={self.pad})"


class _Pool(Layer):
    _fwd = _bwd = None

    def __init__(self, size=2, stride=None):
        super().__init__()
        self.size, self.stride = size, stride
        self.x = None

    def forward(self, x):
        self.x = as_input(x)
        return type(self)._fwd(self.x, self.size, self.stride)

    def backward(self, dout):
        return type(self)._bwd(dout, self.saved(self.x), self.size, self.stride)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, stride={self.stride})"


class MaxPool2d(_Pool):
    """Max pooling layer (最大池化): x (N, C, H, W) -> (N, C, OH, OW); no parameters.

    ``stride`` defaults to ``size``. backward sends each gradient to its window's first maximum.
    """

    _fwd = staticmethod(max_pool2d)
    _bwd = staticmethod(max_pool2d_backward)


class AvgPool2d(_Pool):
    """Average pooling layer (平均池化): x (N, C, H, W) -> (N, C, OH, OW); no parameters."""

    _fwd = staticmethod(avg_pool2d)
    _bwd = staticmethod(avg_pool2d_backward)


class Flatten(Layer):
    """x (N, d1, d2, ...) -> (N, d1*d2*...); backward reshapes dout back."""

    def __init__(self):
        super().__init__()
        self.shape = None

    def forward(self, x):
        x = as_input(x)
        if x.ndim < 1:
            raise ValueError(f"Flatten: expected an array with a batch axis, got shape {x.shape}")
        self.shape = tuple(x.shape)
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))

    def backward(self, dout):
        shape = self.saved(self.shape)
        dout = as_input(dout, name="dout")
        expected = (shape[0], int(np.prod(shape[1:])))
        if tuple(dout.shape) != expected:
            raise ValueError(f"Flatten.backward: expected dout of shape {expected}, got {tuple(dout.shape)}")
        return dout.reshape(shape)


class ResidualBlock(Layer):
    """ResNet's basic residual block (残差块): ``out = relu(x + conv2(relu(conv1(x))))``.

    Both convolutions are C -> C, 3x3 (or ``size``), stride 1, padding ``size // 2``, so the
    shortcut adds shapes that match. x: (N, C, H, W) -> (N, C, H, W).
    params: ``W1, b1, W2, b2``. The shortcut passes the gradient straight through:
    ``dx = dz + (gradient through the two convolutions)``, where ``dz`` is dout masked by the ReLU.
    """

    def __init__(self, W1, b1, W2, b2):
        super().__init__()
        W1, W2 = as_float_array(W1, "W1"), as_float_array(W2, "W2")
        if W1.ndim != 4 or W2.ndim != 4:
            raise ValueError(f"ResidualBlock: expected W1, W2 of shape (C, C, R, R), got {W1.shape}, {W2.shape}")
        C = W1.shape[1]
        if W1.shape[0] != C or W2.shape[:2] != (C, C) or W1.shape[2] % 2 == 0 or W1.shape[2:] != W2.shape[2:] \
                or W1.shape[2] != W1.shape[3]:
            raise ValueError(f"ResidualBlock: expected W1, W2 of shape (C, C, R, R) with odd R, got {W1.shape}, {W2.shape}")
        self.conv1 = Conv2d(W1, b1, pad=W1.shape[2] // 2)
        self.conv2 = Conv2d(W2, b2, pad=W2.shape[2] // 2)
        self.params = {"W1": self.conv1.params["W"], "b1": self.conv1.params["b"],
                       "W2": self.conv2.params["W"], "b2": self.conv2.params["b"]}
        self.x = None

    @classmethod
    def init(cls, channels, size=3, rng=None, dtype=np.float32):
        """A block with He-initialised filters (:func:`dlbook.init.he_normal`) and zero biases."""
        rng = np.random.default_rng(rng)
        shape = (channels, channels, size, size)
        W1, W2 = init.he_normal(shape, rng, dtype), init.he_normal(shape, rng, dtype)
        return cls(W1, np.zeros(channels, dtype), W2, np.zeros(channels, dtype))

    def forward(self, x):
        x = as_float_array(x)
        h = self.conv1.forward(x)
        self.mask1 = h > 0
        h = h * self.mask1
        z = self.conv2.forward(h) + self.conv1.x
        self.mask2 = z > 0
        self.x = self.conv1.x
        return z * self.mask2

    def backward(self, dout):
        self.saved(self.x)
        dz = check_dout(dout, self.mask2.shape, "ResidualBlock") * self.mask2
        dh = self.conv2.backward(dz) * self.mask1
        dx = self.conv1.backward(dh) + dz  # the shortcut: the gradient flows through unchanged
        self.grads = {"W1": self.conv1.grads["W"], "b1": self.conv1.grads["b"],
                      "W2": self.conv2.grads["W"], "b2": self.conv2.grads["b"]}
        return dx
