"""Pooling kernels: numba loops, parallel over (sample, channel) planes — speed machinery (appendix: docs/appendix/convolution.md).

Max pooling keeps a plain ``v > m`` maximum (the strict ``>`` keeps the first maximum in
row-major order on ties). A window with a NaN gives NaN and sends its gradient to its last NaN, as
in PyTorch; since testing every value for NaN inside the window loop was measured 3x slower, each
plane is first scanned once for NaN (:func:`_has_nan`) and only planes that hold one pay for it.
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
        nan_plane = _has_nan(xc)
        for i in range(OH):
            for j in range(OW):
                m = xc[i * sh, j * sw]
                for r in range(kh):
                    xrow = xc[i * sh + r]
                    for s in range(kw):
                        v = xrow[j * sw + s]
                        if v > m:
                            m = v
                        elif nan_plane and v != v:  # NaN wins, as in PyTorch (only on planes that have one)
                            m = v
                            break
                    if m != m:
                        break
                yc[i, j] = m


@njit(cache=True, inline="always")
def _has_nan(plane):
    """Whether a 2-D plane holds a NaN: one cheap pass while the plane is loaded anyway, so the
    pooling loops keep a plain maximum on the (usual) planes without NaN."""
    found = False
    for row in plane:
        for v in row:
            found |= v != v
    return found


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
        nan_plane = _has_nan(xc)
        for i in range(OH):
            for j in range(OW):
                bi = i * sh
                bj = j * sw
                m = xc[bi, bj]
                ni = -1  # the window's last NaN, if any (it takes the gradient, as in PyTorch)
                nj = -1
                for r in range(kh):
                    xrow = xc[i * sh + r]
                    for s in range(kw):
                        v = xrow[j * sw + s]
                        if v > m:  # strict: the first maximum in row-major order wins ties
                            m = v
                            bi = i * sh + r
                            bj = j * sw + s
                        elif nan_plane and v != v:
                            ni = i * sh + r
                            nj = j * sw + s
                if ni >= 0:
                    bi = ni
                    bj = nj
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
