"""im2col / col2im in readable NumPy, and convolution as one matrix product (*Deep Learning from Scratch*).

im2col unfolds every filter-sized window of the input into one row, so that convolution becomes
a single matrix product with the filters; col2im folds rows back, adding overlaps (the backward
of im2col). The fast kernels use the same idea with a different layout (:mod:`dlbook.conv._gemm`).
"""

import numpy as np

from .._validate import as_float_array, check_ndim
from ._common import check_conv, pair

__all__ = ["im2col", "col2im", "conv2d_im2col"]


def im2col(x, filter_h, filter_w=None, stride=1, pad=0):
    """Unfold every filter-sized window of ``x`` into one row (NumPy, *Deep Learning from Scratch* layout).

    x: (N, C, H, W) -> cols: (N*OH*OW, C*filter_h*filter_w).
    Row ``(n*OH + i)*OW + j`` holds the window whose top-left corner is output ``(i, j)`` of
    sample ``n``; its columns run over (c, r, s) in C order, matching ``w.reshape(K, -1)``.
    So ``cols @ w.reshape(K, -1).T`` is the convolution with shape (N*OH*OW, K).
    ``filter_w`` defaults to ``filter_h``; OH, OW use floor division as in :func:`conv2d`.
    """
    filter_w = filter_h if filter_w is None else filter_w
    x = as_float_array(x)
    check_ndim(x, 4, "x", "(N, C, H, W)")
    dummy = np.empty((1, x.shape[1], *pair((filter_h, filter_w), "filter size", 1)), dtype=x.dtype)
    x, _, _, (sh, sw), (ph, pw), (OH, OW) = check_conv(x, dummy, None, stride, pad)
    N, C = x.shape[:2]
    R, S = dummy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = np.empty((N, C, R, S, OH, OW), dtype=x.dtype)
    for r in range(R):  # one strided slice per filter offset: R*S copies, not N*OH*OW
        for s in range(S):
            col[:, :, r, s] = xp[:, :, r : r + sh * OH : sh, s : s + sw * OW : sw]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, -1)


def col2im(cols, x_shape, filter_h, filter_w=None, stride=1, pad=0):
    """Fold rows of :func:`im2col`'s layout back into an image, **adding** overlapping entries.

    cols: (N*OH*OW, C*filter_h*filter_w), x_shape: (N, C, H, W) -> (N, C, H, W).
    This is the adjoint of :func:`im2col` (``sum(im2col(x) * g) == sum(x * col2im(g, x.shape, ...))``),
    which is exactly what backpropagation through im2col needs.
    """
    filter_w = filter_h if filter_w is None else filter_w
    cols = as_float_array(cols, "cols")
    if len(tuple(x_shape)) != 4:
        raise ValueError(f"x_shape: expected (N, C, H, W), got {tuple(x_shape)}")
    N, C, H, W = (int(v) for v in x_shape)
    dummy_x = np.empty((1, C, H, W), dtype=cols.dtype)
    dummy_w = np.empty((1, C, *pair((filter_h, filter_w), "filter size", 1)), dtype=cols.dtype)
    _, _, _, (sh, sw), (ph, pw), (OH, OW) = check_conv(dummy_x, dummy_w, None, stride, pad)
    R, S = dummy_w.shape[2:]
    expected = (N * OH * OW, C * R * S)
    check_ndim(cols, 2, "cols", "(N*OH*OW, C*R*S)")
    if cols.shape != expected:
        raise ValueError(f"cols: expected shape {expected} for x_shape {(N, C, H, W)}, got {cols.shape}")
    col = cols.reshape(N, OH, OW, C, R, S).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((N, C, H + 2 * ph + sh - 1, W + 2 * pw + sw - 1), dtype=cols.dtype)
    for r in range(R):
        for s in range(S):
            xp[:, :, r : r + sh * OH : sh, s : s + sw * OW : sw] += col[:, :, r, s]
    return xp[:, :, ph : ph + H, pw : pw + W].copy()


def conv2d_im2col(x, w, b=None, stride=1, pad=0):
    """Convolution as one matrix product, the NumPy way (*Deep Learning from Scratch*).

    x: (N, C, H, W), w: (K, C, R, S), b: (K,) or None -> (N, K, OH, OW).
    """
    x, w, b, stride, pad, (OH, OW) = check_conv(x, w, b, stride, pad)
    N, K = x.shape[0], w.shape[0]
    y = im2col(x, w.shape[2], w.shape[3], stride, pad) @ w.reshape(K, -1).T
    if b is not None:
        y += b
    return y.reshape(N, OH, OW, K).transpose(0, 3, 1, 2).copy()
