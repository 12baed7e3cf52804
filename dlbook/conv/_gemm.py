"""im2col + BLAS convolution kernels for channel-heavy layers — speed machinery (appendix: docs/appendix/convolution.md).

Per sample, numba copies the input windows into a reused buffer laid out ``(C*R*S, OH*OW)``, so
that ``w.reshape(K, -1) @ cols`` lands in ``y[n]`` already in NCHW order; then BLAS does the
product. Backward: BLAS for ``dw`` and the column gradient, numba col2im for ``dx``. Direct
loops top out far below the matmul roof, so layers with many channels need BLAS.

With stride 1 the columns use an "extended row" layout: each output row is computed for the
full padded width ``Wp`` (the extra ``Wp - OW`` columns are cropped afterwards), so each im2col
row is one contiguous copy, and ``group`` samples share one wider product.

Threads: a few Python threads split the samples (:func:`dlbook._parallel.split_samples`), each
with its own scratch buffer from :func:`_workspace` (per calling thread, so concurrent calls
never share one). The readable NumPy version is :func:`dlbook.conv.conv2d_im2col`.
"""

import threading

import numpy as np
from numba import njit

from .._parallel import PARALLEL_MIN_WORK, split_samples, thread_count
from ._common import out_size
from ._direct import _valid_cols

# Samples per GEMM on the stride-1 path: fewer, wider matrix products run nearer the BLAS roof
# (measured: one sample per product ~15% slower than four), while the group's columns still
# fit in a few MB of workspace.
GEMM_GROUP = 4

# Scratch buffers are per calling thread: two threads calling conv2d at once must never share one.
_LOCAL = threading.local()


def _workspace(shape, dtype):
    """A scratch buffer reused by this thread's calls (fresh 40 MB temporaries cost more in
    page faults than the work). Each calling thread has its own, so concurrent calls are safe."""
    size = int(np.prod(shape))
    pool = getattr(_LOCAL, "buffers", None)
    if pool is None:
        pool = _LOCAL.buffers = {}
    buf = pool.get(np.dtype(dtype))
    if buf is None or buf.size < size:
        buf = pool[np.dtype(dtype)] = np.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def clear_workspace():
    """Release the scratch buffers the GEMM path keeps between this thread's calls."""
    getattr(_LOCAL, "buffers", {}).clear()


@njit(cache=True, nogil=True)
def _im2col_plane(xc, R, S, sh, sw, ph, pw, OH, OW, rows):
    """One input plane xc (H, W) -> its R*S rows: rows[r*S + s, i*OW + j] = x_padded[i*sh + r, j*sw + s]."""
    H, W = xc.shape
    zero = xc.dtype.type(0)
    for r in range(R):
        for s in range(S):
            row = rows[r * S + s]
            j0, j1 = _valid_cols(OW, W, s, sw, pw)
            off = s - pw
            for i in range(OH):
                ih = i * sh + r - ph
                seg = row[i * OW : (i + 1) * OW]
                if ih < 0 or ih >= H:
                    for j in range(OW):
                        seg[j] = zero
                    continue
                xrow = xc[ih]
                for j in range(j0):
                    seg[j] = zero
                if sw == 1:
                    for j in range(j0, j1):
                        seg[j] = xrow[j + off]
                else:
                    for j in range(j0, j1):
                        seg[j] = xrow[j * sw + off]
                for j in range(j1, OW):
                    seg[j] = zero


@njit(cache=True, nogil=True)
def _col2im_plane(rows, R, S, sh, sw, ph, pw, OH, OW, dxc):
    """The adjoint of _im2col_plane: dxc (H, W) is overwritten with the sum of its column entries."""
    H, W = dxc.shape
    zero = dxc.dtype.type(0)
    for ih in range(H):
        for iw in range(W):
            dxc[ih, iw] = zero
    for r in range(R):
        for s in range(S):
            row = rows[r * S + s]
            j0, j1 = _valid_cols(OW, W, s, sw, pw)
            off = s - pw
            for i in range(OH):
                ih = i * sh + r - ph
                if ih < 0 or ih >= H:
                    continue
                seg = row[i * OW : (i + 1) * OW]
                dxrow = dxc[ih]
                if sw == 1:
                    for j in range(j0, j1):
                        dxrow[j + off] += seg[j]
                else:
                    for j in range(j0, j1):
                        dxrow[j * sw + off] += seg[j]


@njit(cache=True, nogil=True)
def _im2col_sample(xn, R, S, sh, sw, ph, pw, OH, OW, cols):
    """One sample xn (C, H, W) -> cols (C*R*S, OH*OW), on the calling thread (releases the GIL)."""
    RS = R * S
    for c in range(xn.shape[0]):
        _im2col_plane(xn[c], R, S, sh, sw, ph, pw, OH, OW, cols[c * RS : (c + 1) * RS])


@njit(cache=True, nogil=True)
def _col2im_sample(cols, R, S, sh, sw, ph, pw, OH, OW, dxn):
    RS = R * S
    for c in range(dxn.shape[0]):
        _col2im_plane(cols[c * RS : (c + 1) * RS], R, S, sh, sw, ph, pw, OH, OW, dxn[c])


# Stride-1 GEMM path: the same extended-row trick as the _conv_s1 kernels above. With the
# padded plane flat, im2col row (c, r, s) is the contiguous slice xpad[c, r*Wp + s :][:L], so
# im2col is C*R*S plain copies (measured ~7x faster than gathering OH short clipped rows, which
# made im2col cost as much as the GEMM). The product then has L = (OH-1)*Wp + OW columns per
# sample, of which Wp - OW per output row are garbage: cropped in forward, zero-filled in backward.


@njit(cache=True, nogil=True)
def _pad_sample(xn, ph, pw, xpad):
    """xpad (C, Hp*Wp) <- the zero-padded planes of xn (C, H, W), flattened."""
    C, H, W = xn.shape
    Wp = W + 2 * pw
    zero = xn.dtype.type(0)
    for c in range(C):
        xpc = xpad[c]
        for p in range(xpc.shape[0]):
            xpc[p] = zero
        xc = xn[c]
        for ih in range(H):
            dst = xpc[(ih + ph) * Wp + pw : (ih + ph) * Wp + pw + W]
            src = xc[ih]
            for j in range(W):
                dst[j] = src[j]


@njit(cache=True, nogil=True)
def _im2col_s1(xn, R, S, ph, pw, xpad, cols, col0, L):
    """Stride 1: cols[(c*R + r)*S + s, col0 + p] = xpad[c, r*Wp + s + p] for p < L; xpad is scratch.

    ``col0`` places this sample's L columns in a buffer holding several samples side by side
    (one wider GEMM for the group instead of one per sample).
    """
    _pad_sample(xn, ph, pw, xpad)
    Wp = xn.shape[2] + 2 * pw
    for c in range(xn.shape[0]):
        xpc = xpad[c]
        for r in range(R):
            for s in range(S):
                row = cols[(c * R + r) * S + s, col0 : col0 + L]
                src = xpc[r * Wp + s : r * Wp + s + L]
                for p in range(L):
                    row[p] = src[p]


@njit(cache=True, nogil=True)
def _crop_s1(ext, col0, Wp, b, yn):
    """yn[k, i, j] = ext[k, col0 + i*Wp + j] + b[k]: drop the garbage columns, add the bias in the same pass."""
    K, OH, OW = yn.shape
    for k in range(K):
        e = ext[k, col0:]
        bk = b[k]
        for i in range(OH):
            src = e[i * Wp : i * Wp + OW]
            dst = yn[k, i]
            for j in range(OW):
                dst[j] = src[j] + bk


@njit(cache=True, nogil=True)
def _widen_s1(dyn, Wp, ext, col0, L):
    """ext[k, col0 + i*Wp + j] = dyn[k, i, j], zeros in the garbage columns (so they add nothing)."""
    K, OH, OW = dyn.shape
    zero = dyn.dtype.type(0)
    for k in range(K):
        e = ext[k, col0 : col0 + L]
        for i in range(OH):
            dst = e[i * Wp : i * Wp + OW]
            src = dyn[k, i]
            for j in range(OW):
                dst[j] = src[j]
            for p in range(i * Wp + OW, min((i + 1) * Wp, L)):
                e[p] = zero


@njit(cache=True, nogil=True)
def _col2im_s1(cols, col0, L, R, S, ph, pw, dxpad, dxn):
    """Adjoint of _im2col_s1: dxn (C, H, W) <- interior of sum_rs (cols row (c, r, s) added at r*Wp + s)."""
    C, H, W = dxn.shape
    Wp = W + 2 * pw
    zero = dxn.dtype.type(0)
    for c in range(C):
        dpc = dxpad[c]
        for p in range(dpc.shape[0]):
            dpc[p] = zero
        for r in range(R):
            for s in range(S):
                row = cols[(c * R + r) * S + s, col0 : col0 + L]
                dst = dpc[r * Wp + s : r * Wp + s + L]
                for p in range(L):
                    dst[p] += row[p]
        for ih in range(H):
            src = dpc[(ih + ph) * Wp + pw : (ih + ph) * Wp + pw + W]
            dst = dxn[c, ih]
            for j in range(W):
                dst[j] = src[j]


class _S1Layout:
    """Sizes of the stride-1 path and the carving of one thread's flat workspace into
    ``xpad`` (C, Hp*Wp), ``cols`` (C*R*S, g*L) and ``ext`` (K, g*L) for a group of g samples."""

    def __init__(self, x_shape, w_shape, ph, pw, OH, OW, group):
        _, C, H, W = x_shape
        K, _, R, S = w_shape
        self.group = group
        self.Wp = W + 2 * pw
        self.L = (OH - 1) * self.Wp + OW  # extended output length per sample
        self.sizes = (C, (H + 2 * ph) * self.Wp), C * R * S, K
        self.buf_size = C * (H + 2 * ph) * self.Wp + (C * R * S + K) * group * self.L

    def carve(self, buf, g):
        (C, P), CRS, K = self.sizes
        o1 = C * P
        o2 = o1 + CRS * self.group * self.L
        xpad = buf[:o1].reshape(C, P)
        cols = buf[o1 : o1 + CRS * g * self.L].reshape(CRS, g * self.L)
        ext = buf[o2 : o2 + K * g * self.L].reshape(K, g * self.L)
        return xpad, cols, ext


def _buffers(N, work, shape, dtype, min_work):
    """One scratch buffer of ``shape`` per thread the samples will be split over."""
    return list(_workspace((thread_count(N, work, min_work), *shape), dtype))


def forward(x, w, b, stride, pad, *, group=GEMM_GROUP, min_work=PARALLEL_MIN_WORK):
    """y = conv2d(x, w) + b for checked arrays: x (N, C, H, W), w (K, C, R, S), b (K,) or None."""
    (sh, sw), (ph, pw) = stride, pad
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    OH, OW = out_size(H, R, sh, ph), out_size(W, S, sw, pw)
    y = np.empty((N, K, OH, OW), dtype=x.dtype)
    work = y.size * C * R * S
    W2 = w.reshape(K, -1)
    if (sh, sw) == (1, 1):  # bias added while cropping the extended rows
        bias = b if b is not None else np.zeros(K, dtype=x.dtype)
        s1 = _S1Layout(x.shape, w.shape, ph, pw, OH, OW, group)

        def forward_groups(n0, n1, buf):  # one thread's share, `group` samples per GEMM
            for g0 in range(n0, n1, group):
                g = min(group, n1 - g0)
                xpad, cols, ext = s1.carve(buf, g)
                for m in range(g):
                    _im2col_s1(x[g0 + m], R, S, ph, pw, xpad, cols, m * s1.L, s1.L)
                np.matmul(W2, cols, out=ext)
                for m in range(g):
                    _crop_s1(ext, m * s1.L, s1.Wp, bias, y[g0 + m])

        split_samples(N, forward_groups, _buffers(N, work, (s1.buf_size,), x.dtype, min_work))
        return y
    geom = (R, S, sh, sw, ph, pw, OH, OW)
    y2 = y.reshape(N, K, OH * OW)

    def forward_samples(n0, n1, cols):  # one thread's share: im2col one sample, then one GEMM
        for n in range(n0, n1):
            _im2col_sample(x[n], *geom, cols)
            np.matmul(W2, cols, out=y2[n])

    split_samples(N, forward_samples, _buffers(N, work, (C * R * S, OH * OW), x.dtype, min_work))
    if b is not None:
        y += b[:, None, None]
    return y


def backward(dy, x, w, stride, pad, need_dx, *, group=GEMM_GROUP, min_work=PARALLEL_MIN_WORK):
    """(dx or None, dw) for checked arrays (db is dy summed, computed by the caller)."""
    (sh, sw), (ph, pw) = stride, pad
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    OH, OW = dy.shape[2:]
    dx = np.empty_like(x) if need_dx else None
    work = dy.size * C * R * S
    W2t = w.reshape(K, -1).T
    partial_dw = {}  # one (K, C*R*S) sum per thread, keyed by its first sample
    if (sh, sw) == (1, 1):
        s1 = _S1Layout(x.shape, w.shape, ph, pw, OH, OW, group)

        def backward_groups(n0, n1, buf):  # one thread's share, `group` samples per GEMM
            dw_part = np.zeros((K, C * R * S), dtype=x.dtype)
            tmp = np.empty_like(dw_part)
            for g0 in range(n0, n1, group):
                g = min(group, n1 - g0)
                xpad, cols, ext = s1.carve(buf, g)
                for m in range(g):
                    _im2col_s1(x[g0 + m], R, S, ph, pw, xpad, cols, m * s1.L, s1.L)
                    _widen_s1(dy[g0 + m], s1.Wp, ext, m * s1.L, s1.L)
                np.matmul(ext, cols.T, out=tmp)
                dw_part += tmp
                if need_dx:
                    np.matmul(W2t, ext, out=cols)  # the column gradient reuses the buffer
                    for m in range(g):
                        _col2im_s1(cols, m * s1.L, s1.L, R, S, ph, pw, xpad, dx[g0 + m])
            partial_dw[n0] = dw_part

        split_samples(N, backward_groups, _buffers(N, work, (s1.buf_size,), x.dtype, min_work))
    else:
        geom = (R, S, sh, sw, ph, pw, OH, OW)
        dy2 = dy.reshape(N, K, OH * OW)

        def backward_samples(n0, n1, cols):  # one thread's share of the samples
            dw_part = np.zeros((K, C * R * S), dtype=x.dtype)
            tmp = np.empty_like(dw_part)
            for n in range(n0, n1):
                _im2col_sample(x[n], *geom, cols)
                np.matmul(dy2[n], cols.T, out=tmp)
                dw_part += tmp
                if need_dx:
                    np.matmul(W2t, dy2[n], out=cols)  # the column gradient reuses the buffer
                    _col2im_sample(cols, *geom, dx[n])
            partial_dw[n0] = dw_part

        split_samples(N, backward_samples, _buffers(N, work, (C * R * S, OH * OW), x.dtype, min_work))
    # Added in sample order, not in the order the threads finished: the same call gives the same bits.
    dw = np.sum([partial_dw[n0] for n0 in sorted(partial_dw)], axis=0).astype(x.dtype, copy=False).reshape(w.shape)
    return dx, dw
