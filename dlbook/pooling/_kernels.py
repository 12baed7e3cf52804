"""Pooling kernels: numba loops, parallel over (sample, channel) planes — speed machinery (appendix: docs/appendix/convolution.md).

Max pooling keeps a plain ``v > m`` maximum (the strict ``>`` keeps the first maximum in
row-major order on ties). A window with a NaN gives NaN and sends its gradient to its last NaN, as
in PyTorch. Testing every value for NaN inside the window loop was measured 3x slower, and so was
a NaN branch anywhere inside the parallel loop; so the caller asks NumPy once whether x holds a
NaN (``np.isnan(x.max())``, a fast vectorised pass) and only then runs the ``*_nan`` kernels.
"""

from numba import njit, prange


@njit(cache=True, inline="always")
def _window_argmax(xc, i0, j0, kh, kw):
    """(row, column) of the window's first maximum, row-major: the plain loop, no NaN test."""
    m = xc[i0, j0]
    bi, bj = i0, j0
    for r in range(kh):
        xrow = xc[i0 + r]
        for s in range(kw):
            v = xrow[j0 + s]
            if v > m:  # strict: the first maximum wins ties
                m = v
                bi, bj = i0 + r, j0 + s
    return bi, bj


@njit(cache=True, inline="always")
def _window_argmax_nan(xc, i0, j0, kh, kw):
    """As :func:`_window_argmax`, but a NaN wins: the position of the window's last NaN, if any."""
    bi, bj = _window_argmax(xc, i0, j0, kh, kw)
    for r in range(kh):
        for s in range(kw):
            if xc[i0 + r, j0 + s] != xc[i0 + r, j0 + s]:
                bi, bj = i0 + r, j0 + s
    return bi, bj


@njit(cache=True, parallel=True)
def _max_pool_fwd(x, kh, kw, sh, sw, y):
    """Max pooling of x (N, C, H, W) into y, a plain maximum (x holds no NaN)."""
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
                        if v > m:
                            m = v
                yc[i, j] = m


@njit(cache=True, parallel=True)
def _max_pool_fwd_nan(x, kh, kw, sh, sw, y):
    """As :func:`_max_pool_fwd` for an x that holds NaN: a window with a NaN gives NaN."""
    N, C = x.shape[0], x.shape[1]
    OH, OW = y.shape[2], y.shape[3]
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        xc = x[n, c]
        for i in range(OH):
            for j in range(OW):
                bi, bj = _window_argmax_nan(xc, i * sh, j * sw, kh, kw)
                y[n, c, i, j] = xc[bi, bj]


@njit(cache=True, parallel=True)
def _max_pool_bwd(dy, x, kh, kw, sh, sw, dx):
    """dx of max pooling: each dy to its window's first maximum (x holds no NaN)."""
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
                bi, bj = _window_argmax(xc, i * sh, j * sw, kh, kw)
                dxc[bi, bj] += dyc[i, j]


@njit(cache=True, parallel=True)
def _max_pool_bwd_nan(dy, x, kh, kw, sh, sw, dx):
    """As :func:`_max_pool_bwd` for an x that holds NaN: a window's last NaN takes its gradient."""
    N, C, H, W = x.shape
    OH, OW = dy.shape[2], dy.shape[3]
    zero = x.dtype.type(0)
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        xc = x[n, c]
        dxc = dx[n, c]
        for ih in range(H):
            for iw in range(W):
                dxc[ih, iw] = zero
        for i in range(OH):
            for j in range(OW):
                bi, bj = _window_argmax_nan(xc, i * sh, j * sw, kh, kw)
                dxc[bi, bj] += dy[n, c, i, j]


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
