"""Plain-loop convolution: the readable oracle every fast kernel is tested against (tests/test_conv.py).

One output is one window of the (padded) input times one filter, summed, plus the bias.
"""

import numpy as np

from ._common import check_conv, check_dy

__all__ = ["conv2d_reference", "conv2d_backward_reference"]


def conv2d_reference(x, w, b=None, stride=1, pad=0):
    """Plain-loop convolution (the oracle): every output is one window times the filter.

    x: (N, C, H, W), w: (K, C, R, S), b: (K,) or None -> y: (N, K, OH, OW).
    """
    x, w, b, (sh, sw), (ph, pw), (OH, OW) = check_conv(x, w, b, stride, pad)
    N, K, R, S = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((N, K, OH, OW), dtype=x.dtype)
    for n in range(N):
        for k in range(K):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, :, i * sh : i * sh + R, j * sw : j * sw + S]
                    y[n, k, i, j] = np.sum(window * w[k]) + (b[k] if b is not None else 0)
    return y


def conv2d_backward_reference(dy, x, w, stride=1, pad=0):
    """Plain-loop gradients of :func:`conv2d_reference`: each output spreads ``dy`` back over its window.

    dy: (N, K, OH, OW), x: (N, C, H, W), w: (K, C, R, S) -> dx (N, C, H, W), dw (K, C, R, S), db (K,).
    """
    x, w, _, (sh, sw), (ph, pw), (OH, OW) = check_conv(x, w, None, stride, pad)
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    dy = check_dy(dy, (N, K, OH, OW), x.dtype)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for k in range(K):
            for i in range(OH):
                for j in range(OW):
                    g = dy[n, k, i, j]
                    dw[k] += g * xp[n, :, i * sh : i * sh + R, j * sw : j * sw + S]
                    dxp[n, :, i * sh : i * sh + R, j * sw : j * sw + S] += g * w[k]
    dx = dxp[:, :, ph : ph + H, pw : pw + W].copy()
    return dx, dw, dy.sum(axis=(0, 2, 3))
