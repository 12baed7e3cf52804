"""Plain-loop pooling: the readable oracle the numba kernels are tested against (tests/test_conv.py)."""

import numpy as np

from ..conv._common import check_dy, check_pool

__all__ = ["max_pool2d_reference", "avg_pool2d_reference", "max_pool2d_backward_reference", "avg_pool2d_backward_reference"]


def _pool_reference(x, size, stride, reduce):
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    N, C = x.shape[:2]
    y = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    y[n, c, i, j] = reduce(x[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw])
    return y


def max_pool2d_reference(x, size=2, stride=None):
    """Plain-loop max pooling. x: (N, C, H, W) -> (N, C, OH, OW), OH = (H - size) // stride + 1."""
    return _pool_reference(x, size, stride, np.max)


def avg_pool2d_reference(x, size=2, stride=None):
    """Plain-loop average pooling. x: (N, C, H, W) -> (N, C, OH, OW)."""
    return _pool_reference(x, size, stride, np.mean)


def _argmax_window(window):
    """Flat index that receives a max-pool window's gradient: the last NaN if there is one
    (PyTorch's rule), else the first maximum in row-major order."""
    nans = np.flatnonzero(np.isnan(window))
    return nans[-1] if nans.size else np.argmax(window)


def max_pool2d_backward_reference(dy, x, size=2, stride=None):
    """Plain-loop max-pool gradient: each ``dy`` goes to its window's first maximum (row-major),
    or to its last NaN when the window holds NaN (as PyTorch does).

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W). Overlapping windows add up.
    """
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    N, C = x.shape[:2]
    dy = check_dy(dy, (N, C, OH, OW), x.dtype)
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    r, s = np.unravel_index(_argmax_window(window), window.shape)
                    dx[n, c, i * sh + r, j * sw + s] += dy[n, c, i, j]
    return dx


def avg_pool2d_backward_reference(dy, x, size=2, stride=None):
    """Plain-loop average-pool gradient: each ``dy`` is shared equally by its window.

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W).
    """
    x, (kh, kw), (sh, sw), (OH, OW) = check_pool(x, size, stride)
    N, C = x.shape[:2]
    dy = check_dy(dy, (N, C, OH, OW), x.dtype)
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    dx[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw] += dy[n, c, i, j] / (kh * kw)
    return dx
