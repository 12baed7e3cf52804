"""Convolution (卷积) — book page: docs/04-cnn-rnn/convolution.md.

Shapes (NCHW throughout):

- ``x``:  (N, C, H, W)    a batch of N images with C channels
- ``w``:  (K, C, R, S)    K filters, each C x R x S
- ``b``:  (K,)            one bias per filter
- ``y``:  (N, K, OH, OW)  with ``OH = (H + 2*pad - R) // stride + 1`` (same for W)

One output value is one window of the (zero-padded) input times one filter, summed, plus the
filter's bias: ``y[n, k, i, j] = sum_{c,r,s} x[n, c, i*stride + r, j*stride + s] * w[k, c, r, s] + b[k]``.
As in deep-learning libraries, "convolution" here is **cross-correlation**: the kernel is not
flipped. ``stride`` and ``pad`` are an int or an ``(h, w)`` pair.

Output size. :func:`conv_output_size` is the course's formula and is strict: it raises when
``(size + 2*pad - filter_size) / stride`` is not a whole number. :func:`conv2d` is forgiving, like
PyTorch: it floors, so rows and columns that no window reaches are ignored (their gradient is 0).

What to read. :func:`conv2d_reference` is the formula as plain loops; :func:`im2col` and
:func:`conv2d_im2col` turn it into one matrix product (*Deep Learning from Scratch*).
:func:`conv2d` and :func:`conv2d_backward` check their arguments, pick a fast kernel and run it;
the kernels are speed machinery in private modules, each tested against the reference:
``_direct`` (numba loops, for few channels), ``_gemm`` (im2col + BLAS, for many channels) and
``_winograd`` (Winograd F(2x2, 3x3), chosen with ``method="winograd"``);
the appendix page docs/appendix/convolution.md tells how they are made fast. Pooling lives in
:mod:`dlbook.pooling`.
"""

import numpy as np

from .._dispatch import dispatch
from . import _direct, _gemm, _winograd
from ._common import check_conv, check_dy
from ._im2col import col2im, conv2d_im2col, im2col
from ._reference import conv2d_backward_reference, conv2d_reference

__all__ = [
    "conv_output_size",
    "conv2d",
    "conv2d_backward",
    "im2col",
    "col2im",
    "conv2d_im2col",
    "conv2d_reference",
    "conv2d_backward_reference",
]


def conv_output_size(size, filter_size, stride=1, pad=0):
    """The course's output-size formula: ``(size + 2*pad - filter_size) / stride + 1``.

    size, filter_size: int >= 1; stride: int >= 1; pad: int >= 0 -> int >= 1.
    Raises ``ValueError`` naming the numbers when ``(size + 2*pad - filter_size) / stride``
    is not a whole number >= 0 (the filter does not fit, or the strides do not tile the
    padded input exactly). :func:`conv2d` itself is forgiving and floors instead.

    >>> conv_output_size(28, 5, stride=3, pad=2), conv_output_size(31, 5, stride=3, pad=2)
    (10, 11)
    """
    for value, name in ((size, "size"), (filter_size, "filter_size"), (stride, "stride")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    if isinstance(pad, (bool, np.bool_)) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad: expected an integer >= 0, got {pad!r}")
    span = size + 2 * pad - filter_size
    if span < 0 or span % stride:
        raise ValueError(
            f"(size + 2*pad - filter_size) / stride = ({size} + 2*{pad} - {filter_size}) / {stride}"
            f" = {span / stride:g} is not a whole number >= 0"
        )
    return int(span // stride + 1)


def _pick_kernel(method, w, stride, backward=False):
    """The fast kernel for filters w (K, C, R, S): ``_direct`` numba loops, ``_gemm`` im2col + BLAS,
    or ``_winograd`` (3x3, stride 1, forward only: its backward runs on ``_gemm``)."""
    if method not in ("auto", "direct", "gemm", "winograd"):
        raise ValueError(f"method: expected 'auto', 'direct', 'gemm' or 'winograd', got {method!r}")
    if method == "winograd":
        if not _winograd.supports(w, stride):
            raise ValueError(f"method='winograd': expected 3x3 filters and stride 1, got w {w.shape} and stride {stride}")
        return _gemm if backward else _winograd
    if method == "auto":
        K, C, R, S = w.shape
        # Few input channels (a first layer): the matrix product would be too thin to pay.
        method = "gemm" if C * R * S >= 64 and K >= 8 else "direct"
    return _gemm if method == "gemm" else _direct


@dispatch("conv2d")
def conv2d(x, w, b=None, stride=1, pad=0, *, method="auto"):
    """2-D convolution (cross-correlation, no kernel flip), NCHW.

    x: (N, C, H, W), w: (K, C, R, S), b: (K,) or None -> y: (N, K, OH, OW),
    ``OH = (H + 2*pad - R) // stride + 1`` (floor, like PyTorch; see :func:`conv_output_size`
    for the strict formula). float32 in, float32 out; float64 in, float64 out.
    ``stride`` >= 1 and ``pad`` >= 0 are ints or ``(h, w)`` pairs. ``method`` is
    ``"auto"`` (pick by shape), ``"direct"`` (numba loops), ``"gemm"`` (im2col + BLAS) or
    ``"winograd"`` (3x3 filters, stride 1: 2.25x fewer multiplications, :mod:`dlbook.conv._winograd`).
    Raises ``ValueError`` naming the shapes on a channel mismatch, a wrong ndim, a kernel
    larger than the padded input, ``stride <= 0`` or ``pad < 0``.
    """
    x, w, b, stride, pad, _ = check_conv(x, w, b, stride, pad)
    kernel = _pick_kernel(method, w, stride)
    return kernel.forward(x, w, b, stride, pad)


@dispatch("conv2d_backward")
def conv2d_backward(dy, x, w, stride=1, pad=0, *, method="auto", need_dx=True):
    """Gradients of :func:`conv2d`: each output spreads its gradient back over its window.

    dy: (N, K, OH, OW), x: (N, C, H, W), w: (K, C, R, S)
    -> (dx (N, C, H, W), dw (K, C, R, S), db (K,)), each in the input dtype.
    ``db`` sums dy over samples and positions (the bias was added everywhere).
    ``need_dx=False`` skips dx and returns None in its place (a network's first layer).
    """
    x, w, _, stride, pad, out_hw = check_conv(x, w, None, stride, pad)
    dy = check_dy(dy, (x.shape[0], w.shape[0], *out_hw), x.dtype)
    kernel = _pick_kernel(method, w, stride, backward=True)
    dx, dw = kernel.backward(dy, x, w, stride, pad, need_dx)
    return dx, dw, dy.sum(axis=(0, 2, 3))
