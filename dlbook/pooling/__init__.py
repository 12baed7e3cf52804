"""Pooling (池化) — book page: docs/04-cnn-rnn/pooling.md.

A pooling layer slides a ``size`` window over each channel with a ``stride`` (by default the
window's size, so windows do not overlap) and keeps one number per window: the largest
(max pooling, 最大池化) or the mean (average pooling, 平均池化). It has no parameters, keeps the
number of channels, and shrinks H and W: ``OH = (H - size) // stride + 1``.

x: (N, C, H, W) -> (N, C, OH, OW); ``size`` and ``stride`` are an int or an ``(h, w)`` pair.
Backward: max pooling sends each gradient to the position of its window's maximum (the first
one, row-major, on ties; a NaN, as in PyTorch, takes it); average pooling shares it equally.

Each function checks its arguments and runs a numba kernel (``_kernels``); the plain-loop
``*_reference`` functions are the formulas, and tests/test_conv.py checks they agree.
"""

import numpy as np

from .._dispatch import dispatch
from .._parallel import run_parallel
from ..conv._common import check_dy, check_pool
from ._kernels import _avg_pool_bwd, _avg_pool_fwd, _max_pool_bwd, _max_pool_bwd_nan, _max_pool_fwd, _max_pool_fwd_nan
from ._reference import (
    avg_pool2d_backward_reference,
    avg_pool2d_reference,
    max_pool2d_backward_reference,
    max_pool2d_reference,
)

__all__ = [
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "max_pool2d_reference",
    "max_pool2d_backward_reference",
    "avg_pool2d_reference",
    "avg_pool2d_backward_reference",
]


def _has_nan(x):
    """Whether x holds a NaN (NumPy's max propagates it): the kernels then take their NaN-aware loop."""
    return bool(np.isnan(x.max()))


@dispatch("max_pool2d")
def max_pool2d(x, size=2, stride=None):
    """Max pooling (最大池化): the largest value of each ``size`` window.

    x: (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - size) // stride + 1``; ``stride`` defaults
    to ``size``. ``stride < size`` gives overlapping windows (AlexNet's 3x3, stride 2).
    """
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    y = np.empty((*x.shape[:2], OH, OW), dtype=x.dtype)
    kernel = _max_pool_fwd_nan if _has_nan(x) else _max_pool_fwd
    run_parallel(kernel, x.size, x, kh, kw, sh, sw, y)
    return y


@dispatch("max_pool2d_backward")
def max_pool2d_backward(dy, x, size=2, stride=None):
    """Gradient of :func:`max_pool2d`: each ``dy`` goes to the first maximum (row-major) of its window.

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W); overlapping windows add up.
    """
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    dy = check_dy(dy, (*x.shape[:2], OH, OW), x.dtype)
    dx = np.empty_like(x)
    kernel = _max_pool_bwd_nan if _has_nan(x) else _max_pool_bwd
    run_parallel(kernel, x.size, dy, x, kh, kw, sh, sw, dx)
    return dx


@dispatch("avg_pool2d")
def avg_pool2d(x, size=2, stride=None):
    """Average pooling (平均池化): the mean of each ``size`` window.

    x: (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - size) // stride + 1``.
    """
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    y = np.empty((*x.shape[:2], OH, OW), dtype=x.dtype)
    run_parallel(_avg_pool_fwd, x.size, x, kh, kw, sh, sw, y)
    return y


@dispatch("avg_pool2d_backward")
def avg_pool2d_backward(dy, x, size=2, stride=None):
    """Gradient of :func:`avg_pool2d`: each ``dy`` is shared equally by its window's pixels.

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W).
    """
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    dy = check_dy(dy, (*x.shape[:2], OH, OW), x.dtype)
    dx = np.empty_like(x)
    run_parallel(_avg_pool_bwd, x.size, dy, kh, kw, sh, sw, dx)
    return dx
