"""Pooling kernels: numba loops, parallel over (sample, channel) planes — speed machinery (appendix: docs/appendix/convolution.md).

Max pooling compares with ``v > m or v != v``: the strict ``>`` keeps the first maximum in
row-major order on ties, and ``v != v`` (true only for NaN) lets a NaN take over, so NaN
propagates and the gradient goes to the window's last NaN, as in PyTorch.
"""

from numba import njit, prange


@njit(cache=True, parallel=True)
def _max_pool_fwd(x, kh, kw, sh, sw, y):
    N, C = x.shape[0], x.shape[1]
    OH, OW = y.shape[2], y.shape[3]
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        xc = x[n, c]
        yc = y[n, c]
        for i in range(OH):
            for j in range(OW):
                m = xc[i * sh, j * sw]
                for r in range(kh):
                    xrow = xc[i * sh + r]
                    for s in range(kw):
                        v = xrow[j * sw + s]
                        if v > m or v != v:  # v != v: NaN wins, as in PyTorch
                            m = v
                yc[i, j] = m


@njit(cache=True, parallel=True)
def _max_pool_bwd(dy, x, kh, kw, sh, sw, dx):
    N, C, H, W = x.shape
    OH, OW = dy.shape[2], dy.shape[3]
    zero = x.dtype.type(0)
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        xc = x[n, c]
        dxc = dx[n, c]
        dyc = dy[n, c]
        for ih in range(H):
            for iw in range(W):
                dxc[ih, iw] = zero
        for i in range(OH):
            for j in range(OW):
                bi = i * sh
                bj = j * sw
                m = xc[bi, bj]
                for r in range(kh):
                    xrow = xc[i * sh + r]
                    for s in range(kw):
                        v = xrow[j * sw + s]
                        # Strict ">": the first maximum in row-major order wins ties; a NaN
                        # (v != v) always takes over, so the last NaN gets the gradient (PyTorch's rule).
                        if v > m or v != v:
                            m = v
                            bi = i * sh + r
                            bj = j * sw + s
                dxc[bi, bj] += dyc[i, j]


@njit(cache=True, parallel=True)
def _avg_pool_fwd(x, kh, kw, sh, sw, y):
    N, C = x.shape[0], x.shape[1]
    OH, OW = y.shape[2], y.shape[3]
    inv = x.dtype.type(1.0 / (kh * kw))
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        xc = x[n, c]
        yc = y[n, c]
        for i in range(OH):
            for j in range(OW):
                acc = x.dtype.type(0)
                for r in range(kh):
                    xrow = xc[i * sh + r]
                    for s in range(kw):
                        acc += xrow[j * sw + s]
                yc[i, j] = acc * inv


@njit(cache=True, parallel=True)
def _avg_pool_bwd(dy, kh, kw, sh, sw, dx):
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2], dy.shape[3]
    zero = dx.dtype.type(0)
    inv = dx.dtype.type(1.0 / (kh * kw))
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        dxc = dx[n, c]
        dyc = dy[n, c]
        for ih in range(H):
            for iw in range(W):
                dxc[ih, iw] = zero
        for i in range(OH):
            for j in range(OW):
                g = dyc[i, j] * inv
                for r in range(kh):
                    dxrow = dxc[i * sh + r]
                    for s in range(kw):
                        dxrow[j * sw + s] += g
