"""The protocol every layer follows; see the package docstring of :mod:`dlbook.layers`."""

from .._validate import as_float_array


def check_dout(dout, shape, name):
    """The upstream gradient as a float array of the expected ``shape``, else ``ValueError``.

    Shared by every layer's ``backward`` so the message always names the layer and both shapes.
    """
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(shape):
        raise ValueError(f"{name}.backward: expected dout of shape {tuple(shape)}, got {dout.shape}")
    return dout


class Layer:
    """Base class: a layer with ``params``/``grads`` dicts, ``forward`` and ``backward``.

    ``train`` is True by default; layers that behave differently at test time
    (dropout, say) read it. ``Sequential.train()``/``eval()`` set it on every layer.
    """

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.train = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"
