"""A :class:`dlbook.models.Sequential` moved to the GPU: ``dlbook.cuda.to_device(model)``.

:class:`GPUModel` keeps the model's structure and puts every parameter and every activation in
GPU memory; its layers call the GPU kernels of this package (conv2d, pooling, Affine GEMMs,
activations, softmax cross-entropy), so a whole training step — forward, loss, backward and
the SGD update — runs on the GPU and only the loss (one float per sample) comes back.

Same API as ``Sequential`` where it matters: ``forward``/``predict``, ``loss(x, t)``,
``backward()``, ``gradient(x, t)``, ``params``/``grads`` (dicts with the same keys, device
arrays), ``accuracy(x, t)``; :class:`SGD` updates the parameters in place on the device;
:meth:`GPUModel.to_host` copies the parameters back into the CPU model.
"""

import math

import numpy as np

from . import conv as _conv
from . import elementwise as _ew
from . import gemm as _gemm
from ._util import cuda, dev, empty, flat, grid1d

__all__ = ["GPUModel", "SGD"]


@cuda.jit
def _mask_mul(dout, x, out):
    # ReLU backward: out = dout where x > 0, else 0
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.size:
        out[i] = dout[i] if x[i] > 0 else dout[i] - dout[i]
        i += stride


@cuda.jit
def _sigmoid_bwd(dout, y, out, one):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.size:
        out[i] = dout[i] * y[i] * (one - y[i])
        i += stride


@cuda.jit
def _tanh_bwd(dout, y, out, one):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.size:
        out[i] = dout[i] * (one - y[i] * y[i])
        i += stride


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


@cuda.jit
def _sgd(p, g, lr):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < p.size:
        p[i] -= lr * g[i]
        i += stride


def _elementwise(kernel, dout, other, *extra):
    out = empty(tuple(dout.shape), dout.dtype)
    kernel[grid1d(dout.size)](flat(dout), flat(other), flat(out), *extra)
    return out


class _GPULayer:
    params_keys = ()

    def __init__(self, layer):
        self.layer = layer
        self.params = {k: dev(v, k, type(layer).__name__) for k, v in layer.params.items()}
        self.grads = {}


class _Affine(_GPULayer):
    def forward(self, x):
        self.x = x
        return _gemm.affine_forward(x, self.params["W"], self.params["b"])

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = _gemm.affine_backward(dout, self.x, self.params["W"])
        return dx


class _Conv2d(_GPULayer):
    def forward(self, x):
        self.x = x
        L = self.layer
        return _conv.conv2d(x, self.params["W"], self.params["b"], stride=L.stride, pad=L.pad)

    def backward(self, dout):
        L = self.layer
        dx, self.grads["W"], self.grads["b"] = _conv.conv2d_backward(dout, self.x, self.params["W"], stride=L.stride, pad=L.pad)
        return dx


class _Pool(_GPULayer):
    def __init__(self, layer, kind):
        super().__init__(layer)
        self.fwd = getattr(_conv, f"{kind}_pool2d")
        self.bwd = getattr(_conv, f"{kind}_pool2d_backward")

    def forward(self, x):
        self.x = x
        return self.fwd(x, self.layer.size, self.layer.stride)

    def backward(self, dout):
        return self.bwd(dout, self.x, self.layer.size, self.layer.stride)


class _ReLU(_GPULayer):
    def forward(self, x):
        self.x = x
        return _ew.relu(x)

    def backward(self, dout):
        return _elementwise(_mask_mul, dout, self.x)


class _Sigmoid(_GPULayer):
    def forward(self, x):
        self.y = _ew.sigmoid(x)
        return self.y

    def backward(self, dout):
        return _elementwise(_sigmoid_bwd, dout, self.y, dout.dtype.type(1))


class _Tanh(_GPULayer):
    def forward(self, x):
        self.y = _ew.tanh(x)
        return self.y

    def backward(self, dout):
        return _elementwise(_tanh_bwd, dout, self.y, dout.dtype.type(1))


class _Flatten(_GPULayer):
    def forward(self, x):
        self.shape = tuple(x.shape)
        return x.reshape(self.shape[0], int(np.prod(self.shape[1:])))

    def backward(self, dout):
        return dout.reshape(*self.shape)


_TWINS = {
    "Affine": _Affine,
    "Conv2d": _Conv2d,
    "MaxPool2d": lambda layer: _Pool(layer, "max"),
    "AvgPool2d": lambda layer: _Pool(layer, "avg"),
    "ReLU": _ReLU,
    "Sigmoid": _Sigmoid,
    "Tanh": _Tanh,
    "Flatten": _Flatten,
}


def _labels(t, N, C):
    """Targets as int32 device labels (N,): integer labels, or one-hot rows (argmax)."""
    if hasattr(t, "__cuda_array_interface__") or getattr(t, "__cuda_ndarray__", False) is True:
        from . import to_host

        t = to_host(t)
    t = np.asarray(t)
    if t.ndim == 2 and t.shape == (N, C):
        t = t.argmax(axis=1)
    if t.shape != (N,) or (t.dtype.kind not in "iu" and not np.all(t == np.round(t))):
        raise ValueError(f"GPUModel: expected integer labels ({N},) or one-hot targets ({N}, {C}), got shape {t.shape}")
    t = t.astype(np.int32)
    if t.size and (t.min() < 0 or t.max() >= C):
        raise ValueError(f"GPUModel: labels must lie in [0, {C}), got min {t.min()} max {t.max()}")
    return cuda.to_device(t)


class GPUModel:
    """A Sequential whose parameters, activations and gradients live on the GPU.

    Built by ``dlbook.cuda.to_device(model)``; the loss layer must be SoftmaxWithLoss.
    """

    def __init__(self, model):
        loss_name = type(getattr(model, "loss_layer", None)).__name__
        if loss_name != "SoftmaxWithLoss":
            raise ValueError(f"GPUModel: only a SoftmaxWithLoss loss runs on the GPU, got {loss_name}")
        self.model = model
        self.layers = []
        for i, layer in enumerate(model.layers):
            twin = _TWINS.get(type(layer).__name__)
            if twin is None:
                raise ValueError(f"GPUModel: layer {i} ({type(layer).__name__}) has no GPU version; GPU layers: {sorted(_TWINS)}")
            self.layers.append(twin(layer))
        self.last_loss = None

    def forward(self, x):
        """x: device (or NumPy) array (N, ...) -> logits (N, classes) as a device array."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    predict = forward

    def loss(self, x, t):
        """Mean softmax cross-entropy (float); t: integer labels (N,) or one-hot (N, C)."""
        logits = self.forward(x)
        N, C = tuple(logits.shape)
        self._t = _labels(t, N, C)
        self._y = _ew.softmax(logits)
        losses = empty((N,), logits.dtype)
        _xent_rows[grid1d(N)](logits, self._t, losses)
        self.last_loss = float(losses.copy_to_host().astype(np.float64).mean())
        return self.last_loss

    def backward(self, dout=1.0):
        N, C = tuple(self._y.shape)
        dx = empty((N, C), self._y.dtype)
        _xent_bwd[grid1d(N * C)](self._y, self._t, self._y.dtype.type(float(dout) / N), dx)
        for layer in reversed(self.layers):
            dx = layer.backward(dx)
        return dx

    def gradient(self, x, t):
        self.loss(x, t)
        self.backward()
        return self.grads

    def _collect(self, attr):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in getattr(layer, attr).items()}

    @property
    def params(self):
        return self._collect("params")

    @property
    def grads(self):
        return self._collect("grads")

    def accuracy(self, x, t):
        from . import to_host

        pred = to_host(self.forward(x)).argmax(axis=1)
        t = np.asarray(t if not hasattr(t, "copy_to_host") else t.copy_to_host())
        t = t.argmax(axis=1) if t.ndim == 2 else t
        return float((pred == t).mean())

    def to_host(self):
        """Copy the GPU parameters back into the CPU model (in place) and return it."""
        for gl in self.layers:
            for k, v in gl.params.items():
                gl.layer.params[k][...] = v.copy_to_host()
        return self.model


class SGD:
    """Plain SGD on device arrays: ``p -= lr * g`` in place, one kernel per parameter."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for k, p in params.items():
            g = grads[k]
            _sgd[grid1d(p.size)](flat(p), flat(g), p.dtype.type(self.lr))
