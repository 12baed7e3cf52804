"""Registers every GPU kernel as the twin of its CPU function (:func:`dlbook._dispatch.register`).

Imported once, the first time a device array reaches a dispatched dlbook function. The CPU
functions' signatures are kept, so a call is the same on both sides.
"""

from .._dispatch import register
from . import _cuda

_cuda()  # one clear CudaUnavailableError before any kernel module is imported

from . import conv, elementwise, gemm, losses, rnn  # noqa: E402

for _name in ("step", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "softmax",
              "relu_backward", "sigmoid_backward", "tanh_backward"):
    register(_name)(getattr(elementwise, _name))
for _name in ("conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"):
    register(_name)(getattr(conv, _name))
register("affine")(gemm.affine_forward)
register("log_softmax_xent")(losses.log_softmax_xent)
register("softmax_xent_backward")(losses.softmax_xent_backward)
register("lstm_backward")(rnn.lstm_backward)


@register("affine_backward")
def affine_backward(dout, x, W, need_dx=True):
    """GPU twin of :func:`dlbook.layers.core.affine_backward` (dx is computed either way)."""
    dx, dW, db = gemm.affine_backward(dout, x, W)
    return (dx if need_dx else None), dW, db


@register("lstm_forward")
def lstm_forward(x, h0, c0, Wx, Wh, b, *, exact_tanh=False):
    """GPU twin of :func:`dlbook.rnn.lstm_forward` (the GPU's tanh is always the exact one)."""
    return rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
