"""Models built from layers — book pages: docs/03-training/layers.md (Sequential, MLP).

- :class:`Sequential` — layers applied in order, a loss layer on top (softmax + cross-entropy by
  default); ``loss``/``backward`` run the network forwards and backwards, ``params``/``grads``
  expose every parameter under a ``"<layer index>.<name>"`` key for :mod:`dlbook.optim`.
- :class:`MLP` — a multilayer perceptron (多层感知机) ``Affine -> act -> ... -> Affine`` with
  He or Xavier initialised weights (:mod:`dlbook.init`).
"""

import numpy as np

from . import init
from ._dispatch import to_numpy
from ._validate import check_positive_int
from .layers.core import Affine, ReLU, Sigmoid, SoftmaxWithLoss, Tanh

__all__ = ["Sequential", "MLP"]


def _initializer(init):
    """``init`` as a function ``(shape, rng, dtype) -> array``: a name in ``_INITS`` or a callable."""
    if callable(init):
        return init
    if init not in _INITS:
        raise ValueError(f"MLP: expected init in {sorted(_INITS)} or a function, got {init!r}")
    return _INITS[init]


class Sequential:
    """A stack of layers with a loss layer on top.

    x: whatever the first layer takes, e.g. (N, D) -> ``forward(x)``: the last layer's output
    (logits). ``loss(x, t)`` -> float; ``backward(dout=1.0)`` -> dx (gradient w.r.t. x), filling
    every layer's ``grads``. ``params``/``grads``: dicts ``{"0.W": array, "0.b": array, ...}``
    holding the layers' own arrays (live references, same keys).
    """

    def __init__(self, *layers, loss=None):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise ValueError(f"Sequential: expected layers with forward/backward, got {type(layer).__name__} at {i}")
        self.layers = list(layers)
        self.loss_layer = SoftmaxWithLoss() if loss is None else loss
        self.last_loss = None
        self.train()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict(self, x):
        """The network's output for ``x`` (logits for a classifier)."""
        return self.forward(x)

    __call__ = forward

    def loss(self, x, t):
        """Forward through the layers, then the loss layer -> float."""
        self.last_loss = self.loss_layer.forward(self.forward(x), t)
        return self.last_loss

    def backward(self, dout=1.0):
        """Back-propagate from the loss layer to the input; returns dx."""
        d = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return d

    def gradient(self, x, t):
        """Loss and backward for one batch; returns :attr:`grads`.

        The first layer skips its input gradient when it can (an :class:`Affine`), since
        nothing upstream needs it.
        """
        self.loss(x, t)
        d = self.loss_layer.backward(1.0)
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            layer = self.layers[i]
            if i == 0 and hasattr(layer, "input_grad"):
                saved, layer.input_grad = layer.input_grad, False
                try:
                    layer.backward(d)
                finally:
                    layer.input_grad = saved
            else:
                d = layer.backward(d)
        return self.grads

    def _collect(self, attr):
        out = {}
        for i, layer in enumerate(self.layers):
            for k, v in getattr(layer, attr, {}).items():
                out[f"{i}.{k}"] = v
        return out

    @property
    def params(self):
        return self._collect("params")

    @property
    def grads(self):
        return self._collect("grads")

    @property
    def training(self):
        """True in training mode (the default), False after :meth:`eval`."""
        return self._training

    def train(self, mode=True):
        """Training mode: ``layer.training = mode`` on every layer, as in PyTorch. Returns self."""
        self._training = bool(mode)
        for layer in self.layers + [self.loss_layer]:
            if hasattr(layer, "train") and callable(layer.train):
                layer.train(mode)
            else:
                layer.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode: ``layer.training = False`` on every layer. Returns self."""
        return self.train(False)

    def accuracy(self, x, t, batch_size=None):
        """Fraction of samples whose arg-max output equals the label.

        t: integer labels (N,) or one-hot (N, C) -> float in [0, 1].
        """
        t = to_numpy(t)
        n = len(t)
        if batch_size is None:
            y = to_numpy(self.predict(x))  # a model on the GPU returns device arrays
        else:
            check_positive_int(batch_size, "batch_size")
            y = np.concatenate([to_numpy(self.predict(x[i:i + batch_size])) for i in range(0, n, batch_size)])
        if y.ndim != 2 or y.shape[0] != n:
            raise ValueError(f"accuracy: expected outputs of shape ({n}, C) for {n} targets, got {y.shape}")
        if t.ndim == 2:
            if t.shape != y.shape:
                raise ValueError(f"accuracy: expected one-hot t of shape {y.shape}, got {t.shape}")
            t = t.argmax(axis=1)
        elif t.ndim != 1:
            raise ValueError(f"accuracy: expected labels (N,) or one-hot (N, C), got shape {t.shape}")
        return float(np.mean(y.argmax(axis=1) == t))

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}(\n  {inner},\n  loss={type(self.loss_layer).__name__}()\n)"


_ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


_INITS = {"he": init.he_normal, "xavier": init.xavier_normal}
_DEFAULT_INIT = {"relu": "he", "sigmoid": "xavier", "tanh": "xavier"}


class MLP(Sequential):
    """Multilayer perceptron: ``Affine -> activation -> ... -> Affine`` (+ softmax loss by default).

    sizes: layer widths, e.g. ``[784, 100, 10]``: input (N, 784) -> logits (N, 10).
    activation: "relu", "sigmoid" or "tanh". init: how the weights are drawn, ``"he"``
    (:func:`dlbook.init.he_normal`, the default for ReLU), ``"xavier"``
    (:func:`dlbook.init.xavier_normal`, the default for sigmoid and tanh) or any function
    ``init(shape, rng, dtype) -> array``. Biases start at 0. ``seed`` fixes the weights.
    """

    def __init__(self, sizes, *, activation="relu", init=None, seed=0, dtype=np.float32, loss=None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: expected at least 2 sizes (input and output), got {sizes}")
        for s in sizes:
            check_positive_int(s, "MLP sizes")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: expected activation in {sorted(_ACTIVATIONS)}, got {activation!r}")
        draw = _initializer(_DEFAULT_INIT[activation] if init is None else init)
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"MLP: expected dtype float32 or float64, got {dtype}")
        rng = np.random.default_rng(seed)
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = np.asarray(draw((fan_in, fan_out), rng, dtype), dtype=dtype)
            layers.append(Affine(W, np.zeros(fan_out, dtype=dtype)))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
        super().__init__(*layers, loss=loss)
        self.sizes = sizes
