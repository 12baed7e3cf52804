"""Layers as small classes with ``forward`` and ``backward`` (chapter 3 onwards).

Every layer follows one protocol (see :class:`dlbook.layers.base.Layer`):

- ``forward(x)`` returns the output and remembers what ``backward`` needs;
- ``backward(dout)`` returns the gradient with respect to the input, stores the
  gradients of the parameters in ``grads`` and never modifies ``dout``;
- ``params`` and ``grads`` are dicts from a parameter name (``"W"``, ``"b"``) to an array
  of the same shape; layers without parameters have empty dicts.

The classes live beside the concept they teach: dense layers in ``core``,
convolution and pooling layers in ``conv``, recurrent layers in ``recurrent``, dropout and batch
normalisation in ``regularization``.
"""

from .base import Layer
from .core import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
