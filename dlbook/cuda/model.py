"""A whole model on the GPU: :func:`move_model` (what ``dlbook.cuda.to_device(model)`` and
``to_host(model)`` do) and :class:`SGD` for device parameters.

The layers themselves do not change: given device arrays, every layer's arithmetic runs the
numba.cuda twin of its formula (:mod:`dlbook._dispatch`), so a training step — forward, loss,
backward and the update — runs on the GPU and only the loss (one float) comes back.
"""

from ._util import cuda, dev, flat, grid1d

__all__ = ["move_model", "SGD"]


def move_model(model, to):
    """Move every parameter of ``model`` (a Sequential) in place: ``to="device"`` or ``"host"``.

    Returns the model. Its gradients are dropped (the next backward makes them where the
    parameters now are).
    """
    from . import to_host

    for i, layer in enumerate(model.layers):
        name = f"layer {i} ({type(layer).__name__})"
        for key, value in list(layer.params.items()):
            layer.params[key] = dev(value, key, name) if to == "device" else to_host(value)
        layer.grads = {}
    return model


@cuda.jit
def _sgd(p, g, lr):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < p.size:
        p[i] -= lr * g[i]
        i += stride


class SGD:
    """Plain SGD on device arrays: ``p -= lr * g`` in place, one kernel per parameter."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for k, p in params.items():
            g = dev(grads[k], f"grads[{k!r}]", "SGD.update", dtype=p.dtype)
            _sgd[grid1d(p.size)](flat(p), flat(g), p.dtype.type(self.lr))
