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

    - ``params[name]``: the parameter arrays, kept by reference (an optimizer changes them in place).
    - ``grads[name]``: after ``backward``, the gradient of each parameter, same shape and dtype.
      ``backward`` stores **new** arrays there (it rebinds, never writes into the old ones), so a
      gradient you kept from an earlier step stays as it was.
    - ``training``: True by default; layers that behave differently at test time (dropout,
      batch normalisation) read it. ``train()`` / ``eval()`` set it, as in PyTorch.
    """

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True

    def train(self, mode=True):
        """Training mode (``training = mode``). Returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (``training = False``). Returns the layer."""
        return self.train(False)

    def saved(self, value):
        """``value`` (something forward stored), or ``ValueError`` if forward has not run yet."""
        if value is None:
            raise ValueError(f"{type(self).__name__}.backward: call forward first")
        return value

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"
