"""Convolution and pooling on the GPU, same contracts as :mod:`dlbook.conv`.

- ``conv2d``: an *implicit GEMM*. The output ``y[n, k, p, q]`` is the product of the filters
  ``w (K, C*R*S)`` with the im2col matrix ``(C*R*S, N*P*Q)``, but that matrix is never
  written: the tiled GEMM of :mod:`dlbook.cuda.gemm` gathers each element of its B tile from
  ``x`` when it stages the tile in shared memory. ``x`` is zero-padded once (one pass), so the
  gather needs no bounds checks; a small table maps a row ``c*R*S + r*S + s`` to its offset in
  the padded image, and each thread decomposes its output columns ``n*P*Q + p*Q + q`` once, so
  the inner loop has no integer division. The epilogue adds the bias and scatters straight
  into NCHW.
- ``conv2d_backward``: im2col + GEMM on the device, a few images at a time (bounded workspace):
  ``dw += dy_k @ cols.T``, ``dcols = w.T @ dy_k``, then col2im gathers ``dx`` (one thread per
  pixel, no atomics), ``db`` is a per-filter reduction.
- pooling: one thread per output for the forward pass; the backward pass runs one thread per
  *input* pixel and gathers from the windows that cover it (deterministic, no atomics; ties go
  to the first maximum in row-major order, as on the CPU).
"""

import numpy as np

from ..conv._common import pair as _pair  # argument parsing shared with the CPU path
from . import gemm as _gemm
from ._util import SIM, ceil_div, cuda, dev, empty, flat, grid1d

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]

# Conv tiles: 64 rows of filters (conv layers rarely have more than a few hundred), 128 output
# pixels, 8x8 outputs per thread, 128 threads.
CONV_DEFAULT = _gemm.GemmConfig(64, 128, 8, 8, 8, True, True, True)
CONV_CONFIGS = {  # benchmarks/gpu_check.py times each
    "64x128 unrolled": CONV_DEFAULT,
    "64x128": _gemm.GemmConfig(64, 128, 8, 8, 8, True, True),
    "128x128 unrolled": _gemm.GemmConfig(128, 128, 8, 8, 8, True, True, True),
    "64x256": _gemm.GemmConfig(64, 256, 8, 8, 8, True, True),
}
WORKSPACE_BYTES = 256 << 20  # the backward's im2col buffer, at most


def _conv_args(x, w, b, stride, pad, fn):
    x = dev(x, "x", fn, ndim=4)
    w = dev(w, "w", fn, dtype=x.dtype, ndim=4)
    b = dev(b, "b", fn, dtype=x.dtype, ndim=1) if b is not None else None
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(pad, "pad", 0)
    N, C, H, W = tuple(x.shape)
    K, Cw, R, S = tuple(w.shape)
    if C != Cw:
        raise ValueError(f"channel mismatch: x has C={C} channels, shape {(N, C, H, W)}, but w expects C={Cw}, shape {(K, Cw, R, S)}")
    if R > H + 2 * ph or S > W + 2 * pw:
        raise ValueError(f"kernel larger than padded input: w {(K, C, R, S)} vs x {(N, C, H, W)} padded by {(ph, pw)}")
    if min(N, C, H, W, K, R, S) == 0:
        raise ValueError(f"empty input: x {(N, C, H, W)}, w {(K, C, R, S)}")
    if b is not None and tuple(b.shape) != (K,):
        raise ValueError(f"b: expected shape ({K},) (one bias per filter of w {(K, C, R, S)}), got {tuple(b.shape)}")
    P = (H + 2 * ph - R) // sh + 1
    Q = (W + 2 * pw - S) // sw + 1
    return x, w, b, (sh, sw), (ph, pw), (N, C, H, W, K, R, S, P, Q)


_TABLES = {}


def _offset_table(C, H, W, R, S):
    """int64 (C*R*S,): row c*R*S + r*S + s -> offset of x[n, c, r, s] from x[n, 0, 0, 0] (x is (N, C, H, W))."""
    key = (C, H, W, R, S)
    t = _TABLES.get(key)
    if t is None:
        c, r, s = np.meshgrid(np.arange(C), np.arange(R), np.arange(S), indexing="ij")
        if len(_TABLES) > 64:
            _TABLES.clear()
        t = _TABLES[key] = cuda.to_device((c * H * W + r * W + s).ravel().astype(np.int64))
    return t


@cuda.jit
def _pad(x, xp, ph, pw):
    # xp[n, c, h, w] = x[n, c, h - ph, w - pw], zero in the border
    N, C, H, W = x.shape
    Hp, Wp = xp.shape[2], xp.shape[3]
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < xp.size:
        nc = i // (Hp * Wp)
        hw = i - nc * Hp * Wp
        h = hw // Wp - ph
        w = hw - (hw // Wp) * Wp - pw
        n = nc // C
        c = nc - n * C
        if h >= 0 and h < H and w >= 0 and w < W:
            xp[n, c, hw // Wp, hw - (hw // Wp) * Wp] = x[n, c, h, w]
        else:
            xp[n, c, hw // Wp, hw - (hw // Wp) * Wp] = 0
        i += stride


def _padded(x, ph, pw):
    """x zero-padded by (ph, pw) on the device (x itself when there is no padding)."""
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = tuple(x.shape)
    xp = empty((N, C, H + 2 * ph, W + 2 * pw), x.dtype)
    _pad[grid1d(xp.size)](x, xp, ph, pw)
    return xp


def conv2d(x, w, b=None, stride=1, pad=0, *, method="auto", cfg=None):
    """GPU 2-D convolution (cross-correlation), NCHW, as an implicit GEMM.

    x: (N, C, H, W), w: (K, C, R, S), b: (K,) or None -> y: (N, K, OH, OW),
    ``OH = (H + 2*pad - R) // stride + 1``. ``method`` is accepted for symmetry with the CPU
    function and ignored; ``cfg`` picks a tile shape (a :class:`~dlbook.cuda.gemm.GemmConfig`).
    """
    x, w, b, (sh, sw), (ph, pw), (N, C, H, W, K, R, S, P, Q) = _conv_args(x, w, b, stride, pad, "conv2d")
    if cfg is None:
        if SIM:
            cfg = _gemm.SIM_CONFIG
        elif x.dtype == np.float64:
            cfg = _gemm.SMALL  # 4x4 doubles per thread stay in registers
        else:
            cfg = CONV_DEFAULT if K <= 64 else CONV_CONFIGS["128x128 unrolled"]
    kern = _gemm.get_kernel(x.dtype, cfg, b="conv", epilogue="conv", bias="row" if b is not None else "none")
    y = empty((N, K, P, Q), x.dtype)
    # Pad once (one pass over x): the gather in the kernel's inner loop then needs no bounds checks.
    xp = _padded(x, ph, pw)
    Hp, Wp = H + 2 * ph, W + 2 * pw
    M, Ncols, Kdim = K, N * P * Q, C * R * S
    grid = (ceil_div(Ncols, cfg[1]), ceil_div(M, cfg[0]))
    kern[grid, cfg.threads](
        w.reshape(K, Kdim), flat(xp), flat(y), b if b is not None else _gemm._dummy_bias(x.dtype),
        M, Ncols, Kdim, _offset_table(C, Hp, Wp, R, S), C * Hp * Wp, Wp, P * Q, Q, sh, sw, K * P * Q,
    )
    return y


# ---- backward helpers --------------------------------------------------------------------------
@cuda.jit
def _im2col(x, cols, n0, G, C, H, W, R, S, P, Q, sh, sw, ph, pw):
    # cols[(c*R + r)*S + s, g*P*Q + p*Q + q] = x[n0 + g, c, p*sh - ph + r, q*sw - pw + s] (0 outside)
    ncol = G * P * Q
    total = C * R * S * ncol
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < total:
        row = i // ncol
        col = i - row * ncol
        c = row // (R * S)
        rs = row - c * R * S
        r = rs // S
        s = rs - r * S
        g = col // (P * Q)
        pq = col - g * P * Q
        p = pq // Q
        q = pq - p * Q
        h = p * sh - ph + r
        ww = q * sw - pw + s
        if h >= 0 and h < H and ww >= 0 and ww < W:
            cols[row, col] = x[n0 + g, c, h, ww]
        else:
            cols[row, col] = 0
        i += stride


@cuda.jit
def _col2im(dcols, dx, n0, G, C, H, W, R, S, P, Q, sh, sw, ph, pw):
    # dx[n0 + g, c, h, w] = sum over (r, s) with h = p*sh - ph + r, w = q*sw - pw + s of dcols[...]
    total = G * C * H * W
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < total:
        g = i // (C * H * W)
        rem = i - g * C * H * W
        c = rem // (H * W)
        rem -= c * H * W
        h = rem // W
        ww = rem - h * W
        acc = dcols[0, 0] - dcols[0, 0]
        for r in range(R):
            ph_ = h + ph - r
            if ph_ >= 0 and ph_ % sh == 0:
                p = ph_ // sh
                if p < P:
                    for s in range(S):
                        pw_ = ww + pw - s
                        if pw_ >= 0 and pw_ % sw == 0:
                            q = pw_ // sw
                            if q < Q:
                                acc += dcols[(c * R + r) * S + s, g * P * Q + p * Q + q]
        dx[n0 + g, c, h, ww] = acc
        i += stride


@cuda.jit
def _gather_dy(dy, out, n0, G, K, PQ):
    # out[k, g*PQ + pq] = dy[n0 + g, k, pq]  (dy viewed as (N, K, PQ))
    total = G * K * PQ
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < total:
        k = i // (G * PQ)
        col = i - k * G * PQ
        g = col // PQ
        pq = col - g * PQ
        out[k, col] = dy[n0 + g, k, pq]
        i += stride


DB_THREADS = 32 if SIM else 256


def _make_db(dtype, NT=DB_THREADS):
    DT = np.dtype(dtype).type

    def body(dy, db, N, K, PQ):
        # one block per filter k: sum dy[n, k, :] over n and the pixels, tree-reduced in shared memory
        k = cuda.blockIdx.x
        t = cuda.threadIdx.x
        buf = cuda.shared.array(NT, DT)
        acc = DT(0)
        total = N * PQ
        i = t
        while i < total:
            n = i // PQ
            acc += dy[n, k, i - n * PQ]
            i += NT
        buf[t] = acc
        cuda.syncthreads()
        s = NT // 2
        while s > 0:
            if t < s:
                buf[t] += buf[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            db[k] = buf[0]

    return cuda.jit(body)


_DB = {}


def conv2d_backward(dy, x, w, stride=1, pad=0, *, method="auto", need_dx=True):
    """GPU gradients of :func:`conv2d`: im2col + GEMM on the device, a chunk of images at a time.

    dy: (N, K, OH, OW), x: (N, C, H, W), w: (K, C, R, S) -> (dx (N, C, H, W), dw (K, C, R, S), db (K,)).
    ``need_dx=False`` skips dx and returns None in its place (a network's first layer).
    """
    x, w, _, (sh, sw), (ph, pw), (N, C, H, W, K, R, S, P, Q) = _conv_args(x, w, None, stride, pad, "conv2d_backward")
    dy = dev(dy, "dy", "conv2d_backward", dtype=x.dtype, ndim=4)
    if tuple(dy.shape) != (N, K, P, Q):
        raise ValueError(f"dy: expected shape {(N, K, P, Q)} (the forward output's), got {tuple(dy.shape)}")
    dt = x.dtype
    CRS, PQ = C * R * S, P * Q
    dy3 = dy.reshape(N, K, PQ)
    db = empty((K,), dt)
    if dt not in _DB:
        _DB[dt] = _make_db(dt)
    _DB[dt][K, DB_THREADS](dy3, db, N, K, PQ)

    G = max(1, min(N, WORKSPACE_BYTES // max(1, CRS * PQ * dt.itemsize)))
    cols = empty((CRS, G * PQ), dt)
    dcols = empty((CRS, G * PQ), dt) if need_dx else None
    dyk = empty((K, G * PQ), dt)
    w2 = w.reshape(K, CRS)
    dw2 = empty((K, CRS), dt)
    dx = empty((N, C, H, W), dt) if need_dx else None
    for n0 in range(0, N, G):
        g = min(G, N - n0)
        ncol = g * PQ
        _im2col[grid1d(CRS * ncol)](x, cols, n0, g, C, H, W, R, S, P, Q, sh, sw, ph, pw)
        _gather_dy[grid1d(K * ncol)](dy3, dyk, n0, g, K, PQ)
        # dw (K, CRS) += dyk (K, ncol) @ cols[:, :ncol].T (the kernels index 2-D arrays with their
        # real row stride, so a last, smaller chunk just uses the first ncol columns)
        _gemm.gemm(dyk, cols, dw2, K, CRS, ncol, b="t", accumulate=n0 > 0)
        if need_dx:
            # dcols (CRS, ncol) = w2.T (CRS, K) @ dyk (K, ncol), then col2im gathers dx
            _gemm.gemm(w2, dyk, dcols, CRS, ncol, K, a="t")
            _col2im[grid1d(g * C * H * W)](dcols, dx, n0, g, C, H, W, R, S, P, Q, sh, sw, ph, pw)
    return dx, dw2.reshape(K, C, R, S), db


# ---- pooling -----------------------------------------------------------------------------------
def _pool_args(x, size, stride, fn):
    x = dev(x, "x", fn, ndim=4)
    kh, kw = _pair(size, "size", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", 1)
    N, C, H, W = tuple(x.shape)
    if kh > H or kw > W:
        raise ValueError(f"pool window {(kh, kw)} larger than the input's (H, W)=({H}, {W}); x {(N, C, H, W)}")
    if min(N, C, H, W) == 0:
        raise ValueError(f"empty input: x {(N, C, H, W)}")
    return x, (kh, kw), (sh, sw), ((H - kh) // sh + 1, (W - kw) // sw + 1)


@cuda.jit
def _pool_fwd(x, y, kh, kw, sh, sw, is_max, inv_area):
    # one thread per output y[n, c, i, j]
    N, C, H, W = x.shape
    OH, OW = y.shape[2], y.shape[3]
    total = N * C * OH * OW
    t = cuda.grid(1)
    stride = cuda.gridsize(1)
    while t < total:
        nc = t // (OH * OW)
        ij = t - nc * OH * OW
        i = ij // OW
        j = ij - i * OW
        n = nc // C
        c = nc - n * C
        h0 = i * sh
        w0 = j * sw
        m = x[n, c, h0, w0]
        acc = m - m
        for r in range(kh):
            for s in range(kw):
                v = x[n, c, h0 + r, w0 + s]
                acc += v
                if v > m or v != v:  # NaN propagates, as on the CPU and in PyTorch
                    m = v
        y[n, c, i, j] = m if is_max else acc * inv_area
        t += stride


@cuda.jit
def _pool_bwd(dy, x, dx, kh, kw, sh, sw, is_max, area):
    # one thread per input pixel: gather dy from every window that covers it
    N, C, H, W = x.shape
    OH, OW = dy.shape[2], dy.shape[3]
    total = N * C * H * W
    t = cuda.grid(1)
    stride = cuda.gridsize(1)
    while t < total:
        nc = t // (H * W)
        hw = t - nc * H * W
        h = hw // W
        w = hw - h * W
        n = nc // C
        c = nc - n * C
        acc = area - area
        i_lo = h - kh + 1
        i_lo = 0 if i_lo <= 0 else (i_lo + sh - 1) // sh
        i_hi = min(h // sh, OH - 1)
        j_lo = w - kw + 1
        j_lo = 0 if j_lo <= 0 else (j_lo + sw - 1) // sw
        j_hi = min(w // sw, OW - 1)
        for i in range(i_lo, i_hi + 1):
            for j in range(j_lo, j_hi + 1):
                if is_max:
                    # the window's first maximum in row-major order (its last NaN if any)
                    h0 = i * sh
                    w0 = j * sw
                    m = x[n, c, h0, w0]
                    bh = h0
                    bw = w0
                    for r in range(kh):
                        for s in range(kw):
                            v = x[n, c, h0 + r, w0 + s]
                            if v > m or v != v:
                                m = v
                                bh = h0 + r
                                bw = w0 + s
                    if bh == h and bw == w:
                        acc += dy[n, c, i, j]
                else:
                    acc += dy[n, c, i, j] / area
        dx[n, c, h, w] = acc
        t += stride


def _pool_forward(x, size, stride, is_max, fn):
    x, (kh, kw), (sh, sw), (OH, OW) = _pool_args(x, size, stride, fn)
    N, C = tuple(x.shape)[:2]
    y = empty((N, C, OH, OW), x.dtype)
    total = N * C * OH * OW
    _pool_fwd[grid1d(total)](x, y, kh, kw, sh, sw, is_max, x.dtype.type(1.0 / (kh * kw)))
    return y


def _pool_backward(dy, x, size, stride, is_max, fn):
    x, (kh, kw), (sh, sw), (OH, OW) = _pool_args(x, size, stride, fn)
    N, C, H, W = tuple(x.shape)
    dy = dev(dy, "dy", fn, dtype=x.dtype, ndim=4)
    if tuple(dy.shape) != (N, C, OH, OW):
        raise ValueError(f"dy: expected shape {(N, C, OH, OW)} (the forward output's), got {tuple(dy.shape)}")
    dx = empty((N, C, H, W), x.dtype)
    _pool_bwd[grid1d(N * C * H * W)](dy, x, dx, kh, kw, sh, sw, is_max, x.dtype.type(kh * kw))
    return dx


def max_pool2d(x, size=2, stride=None):
    """GPU max pooling. x: (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - size) // stride + 1``."""
    return _pool_forward(x, size, stride, True, "max_pool2d")


def avg_pool2d(x, size=2, stride=None):
    """GPU average pooling. x: (N, C, H, W) -> (N, C, OH, OW)."""
    return _pool_forward(x, size, stride, False, "avg_pool2d")


def max_pool2d_backward(dy, x, size=2, stride=None):
    """GPU gradient of max pooling: each dy goes to its window's first maximum (row-major).

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W); overlapping windows add up.
    """
    return _pool_backward(dy, x, size, stride, True, "max_pool2d_backward")


def avg_pool2d_backward(dy, x, size=2, stride=None):
    """GPU gradient of average pooling. dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W)."""
    return _pool_backward(dy, x, size, stride, False, "avg_pool2d_backward")
