"""Convolution (卷积) and pooling (池化) kernels — book pages: docs/04-cnn-rnn/convolution.md,
docs/04-cnn-rnn/pooling.md and docs/04-cnn-rnn/speed.md.

Shapes (NCHW throughout):

- ``x``:  (N, C, H, W)    a batch of N images with C channels
- ``w``:  (K, C, R, S)    K filters, each C x R x S
- ``b``:  (K,)            one bias per filter
- ``y``:  (N, K, OH, OW)  with ``OH = (H + 2*pad - R) // stride + 1`` (same for W)

``stride`` and ``pad`` (and the pooling ``size``) are an int or an ``(h, w)`` pair.
As in deep-learning libraries, "convolution" here is **cross-correlation**: the kernel is
not flipped (the book's convolution page explains the difference).

Output size. :func:`conv_output_size` is the course's formula and is strict: it raises
when ``(size + 2*pad - filter_size) / stride`` is not a whole number. :func:`conv2d` and
the pooling functions are forgiving, like PyTorch: they use floor division, so rows and
columns that no window reaches at the bottom/right are ignored (their gradient is zero).

Implementations. Every kernel exists twice: a plain-loop ``*_reference`` function that
reads like the formula (the oracle of tests/test_conv.py), and a fast path. The fast
convolution picks one of two strategies by shape (:func:`conv2d` ``method="auto"``):

- ``"direct"``: numba loops, parallel over (sample, filter) pairs, each step adding
  ``w[k, c, r, s] * (a contiguous input row)`` to an output row. Best for few channels
  (the first layer of a CNN), where a matrix product would be tiny.
- ``"gemm"``: per sample, numba im2col into a reused buffer laid out ``(C*R*S, OH*OW)`` so
  that ``w.reshape(K, -1) @ cols`` lands in ``y[n]`` already in NCHW order, then BLAS.
  Backward: BLAS for ``dw`` and the column gradient, numba col2im for ``dx``.
  Channel-heavy layers need BLAS: direct loops top out far below the matmul roof.
  With stride 1 the columns use the direct kernels' "extended row" layout (each im2col row
  is then one contiguous copy) and ``GEMM_GROUP`` samples share one wider product.

Thread pools: one pool works at a time. The GEMM path does not alternate numba's parallel
workers with BLAS's (each pool's idle workers spin while the other works; measured ~10x
slower on 2 cores); instead a few Python threads split the samples and each runs a serial,
GIL-free numba im2col and a single-threaded BLAS call (``threadpoolctl`` pins BLAS to one
thread meanwhile; without it the results are the same, only slower). BLAS is never called
from inside a numba ``prange``. Calls below ``PARALLEL_MIN_WORK`` run on one thread.
The reused scratch buffers belong to the calling thread, so several threads may call at once.

The public :func:`im2col` / :func:`col2im` are the readable NumPy versions the reader meets
in *Deep Learning from Scratch*, with its layout (see their docstrings).
"""

import threading

import numba
import numpy as np
from numba import njit, prange

from ._validate import as_float_array, check_ndim
from . import cuda as _cuda  # light: numba.cuda is imported only when a device array shows up
from .cuda.dispatch import on_device as _cuda_on_device

__all__ = [
    "conv_output_size",
    "conv2d",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "im2col",
    "col2im",
    "conv2d_reference",
    "conv2d_backward_reference",
    "conv2d_im2col",
    "max_pool2d_reference",
    "max_pool2d_backward_reference",
    "avg_pool2d_reference",
    "avg_pool2d_backward_reference",
    "clear_workspace",
]


# --------------------------------------------------------------------------- checks


def _pair(value, name, minimum):
    """``value`` as an ``(h, w)`` pair of ints >= ``minimum``; ValueError naming it otherwise."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an int or an (h, w) pair, got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ValueError(f"{name}: expected an integer >= {minimum} (or a pair of them), got {value!r}")
    return int(pair[0]), int(pair[1])


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


def _floor_out(size, k, stride, pad):
    return (size + 2 * pad - k) // stride + 1


def _common_dtype(*arrays):
    dt = np.result_type(*arrays)
    return np.float64 if dt == np.float64 else np.float32


def _check_conv(x, w, b, stride, pad, name_x="x"):
    """Validate and convert conv inputs; return (x, w, b, (sh, sw), (ph, pw), (OH, OW))."""
    x = as_float_array(x, name_x)
    w = as_float_array(w, "w")
    check_ndim(x, 4, name_x, "(N, C, H, W)")
    check_ndim(w, 4, "w", "(K, C, R, S)")
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(pad, "pad", 0)
    N, C, H, W = x.shape
    K, Cw, R, S = w.shape
    if C != Cw:
        raise ValueError(
            f"channel mismatch: {name_x} has C={C} channels, shape {x.shape}, but w expects C={Cw},"
            f" shape {w.shape} (w is (K, C, R, S))"
        )
    if R > H + 2 * ph or S > W + 2 * pw:
        raise ValueError(
            f"kernel larger than padded input: w {w.shape} has (R, S)=({R}, {S}) but {name_x} {x.shape}"
            f" padded by {(ph, pw)} is ({H + 2 * ph}, {W + 2 * pw})"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"empty input: {name_x} {x.shape}, w {w.shape}")
    dt = _common_dtype(x, w) if b is None else _common_dtype(x, w, as_float_array(b, "b"))
    x = np.ascontiguousarray(x, dtype=dt)
    w = np.ascontiguousarray(w, dtype=dt)
    if b is not None:
        b = np.ascontiguousarray(as_float_array(b, "b"), dtype=dt)
        if b.shape != (K,):
            raise ValueError(f"b: expected shape ({K},) (one bias per filter of w {w.shape}), got {b.shape}")
    out = (_floor_out(H, R, sh, ph), _floor_out(W, S, sw, pw))
    return x, w, b, (sh, sw), (ph, pw), out


def _check_pool(x, size, stride, name="x"):
    x = as_float_array(x, name)
    check_ndim(x, 4, name, "(N, C, H, W)")
    kh, kw = _pair(size, "size", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride", 1)
    H, W = x.shape[2:]
    if kh > H or kw > W:
        raise ValueError(f"pool window {(kh, kw)} larger than the input's (H, W)=({H}, {W}); x {x.shape}")
    if min(x.shape) == 0:
        raise ValueError(f"empty input: {name} {x.shape}")
    out = ((H - kh) // sh + 1, (W - kw) // sw + 1)
    return np.ascontiguousarray(x), (kh, kw), (sh, sw), out


def _check_dy(dy, expected, dtype):
    dy = as_float_array(dy, "dy")
    if dy.shape != tuple(expected):
        raise ValueError(f"dy: expected shape {tuple(expected)} (the forward output's), got {dy.shape}")
    return np.ascontiguousarray(dy, dtype=dtype)


# --------------------------------------------------------------------------- reference (plain loops)


def conv2d_reference(x, w, b=None, stride=1, pad=0):
    """Plain-loop convolution (the oracle): every output is one window times the filter.

    x: (N, C, H, W), w: (K, C, R, S), b: (K,) or None -> y: (N, K, OH, OW).
    """
    x, w, b, (sh, sw), (ph, pw), (OH, OW) = _check_conv(x, w, b, stride, pad)
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
    x, w, _, (sh, sw), (ph, pw), (OH, OW) = _check_conv(x, w, None, stride, pad)
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    dy = _check_dy(dy, (N, K, OH, OW), x.dtype)
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


def _pool_reference(x, size, stride, reduce):
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
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
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
    N, C = x.shape[:2]
    dy = _check_dy(dy, (N, C, OH, OW), x.dtype)
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
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
    N, C = x.shape[:2]
    dy = _check_dy(dy, (N, C, OH, OW), x.dtype)
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    dx[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw] += dy[n, c, i, j] / (kh * kw)
    return dx


# --------------------------------------------------------------------------- im2col (readable NumPy)


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
    dummy = np.empty((1, x.shape[1], *_pair((filter_h, filter_w), "filter size", 1)), dtype=x.dtype)
    x, _, _, (sh, sw), (ph, pw), (OH, OW) = _check_conv(x, dummy, None, stride, pad)
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
    dummy_w = np.empty((1, C, *_pair((filter_h, filter_w), "filter size", 1)), dtype=cols.dtype)
    _, _, _, (sh, sw), (ph, pw), (OH, OW) = _check_conv(dummy_x, dummy_w, None, stride, pad)
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
    x, w, b, stride, pad, (OH, OW) = _check_conv(x, w, b, stride, pad)
    N, K = x.shape[0], w.shape[0]
    y = im2col(x, w.shape[2], w.shape[3], stride, pad) @ w.reshape(K, -1).T
    if b is not None:
        y += b
    return y.reshape(N, OH, OW, K).transpose(0, 3, 1, 2).copy()


# --------------------------------------------------------------------------- numba kernels
# Conventions: accumulate in the input dtype; index through slice views (rows), never
# computed flat offsets; padding is handled by clipping index ranges, never by copying x.


@njit(cache=True, inline="always")
def _valid_cols(OW, W, s, sw, pw):
    """Output columns ``j0 <= j < j1`` whose input column ``j*sw + s - pw`` lies inside ``[0, W)``.

    Every direct kernel clips its column loop with this instead of reading a padded copy of x.
    """
    j0 = 0
    while j0 < OW and j0 * sw + s - pw < 0:
        j0 += 1
    j1 = OW
    while j1 > j0 and (j1 - 1) * sw + s - pw >= W:
        j1 -= 1
    return j0, j1


@njit(cache=True, parallel=True)
def _conv_direct_fwd(x, w, y, sh, sw, ph, pw):
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    OH, OW = y.shape[2], y.shape[3]
    zero = x.dtype.type(0)
    for task in prange(N * K):
        n = task // K
        k = task - n * K
        yk = y[n, k]
        for i in range(OH):
            for j in range(OW):
                yk[i, j] = zero
        for c in range(C):
            xc = x[n, c]
            wk = w[k, c]
            for r in range(R):
                for i in range(OH):
                    ih = i * sh + r - ph
                    if ih < 0 or ih >= H:
                        continue
                    xrow = xc[ih]
                    yrow = yk[i]
                    for s in range(S):
                        wv = wk[r, s]
                        j0, j1 = _valid_cols(OW, W, s, sw, pw)
                        off = s - pw
                        if sw == 1:
                            for j in range(j0, j1):
                                yrow[j] += wv * xrow[j + off]
                        else:
                            for j in range(j0, j1):
                                yrow[j] += wv * xrow[j * sw + off]


@njit(cache=True, parallel=True)
def _conv_direct_dx(dy, w, dx, sh, sw, ph, pw):
    N, C, H, W = dx.shape
    K, _, R, S = w.shape
    OH, OW = dy.shape[2], dy.shape[3]
    zero = dx.dtype.type(0)
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        dxc = dx[n, c]
        for ih in range(H):
            for iw in range(W):
                dxc[ih, iw] = zero
        for k in range(K):
            dyk = dy[n, k]
            wk = w[k, c]
            for r in range(R):
                for i in range(OH):
                    ih = i * sh + r - ph
                    if ih < 0 or ih >= H:
                        continue
                    dxrow = dxc[ih]
                    dyrow = dyk[i]
                    for s in range(S):
                        wv = wk[r, s]
                        j0, j1 = _valid_cols(OW, W, s, sw, pw)
                        off = s - pw
                        if sw == 1:
                            for j in range(j0, j1):
                                dxrow[j + off] += wv * dyrow[j]
                        else:
                            for j in range(j0, j1):
                                dxrow[j * sw + off] += wv * dyrow[j]


@njit(cache=True, parallel=True, fastmath=True)  # fastmath: lets the dot products vectorise
def _conv_direct_dw(dy, x, dw, sh, sw, ph, pw):
    N, C, H, W = x.shape
    K, _, R, S = dw.shape
    OH, OW = dy.shape[2], dy.shape[3]
    for task in prange(K * C):
        k = task // C
        c = task - k * C
        for r in range(R):
            for s in range(S):
                acc = x.dtype.type(0)
                j0, j1 = _valid_cols(OW, W, s, sw, pw)
                off = s - pw
                for n in range(N):
                    dyk = dy[n, k]
                    xc = x[n, c]
                    for i in range(OH):
                        ih = i * sh + r - ph
                        if ih < 0 or ih >= H:
                            continue
                        xrow = xc[ih]
                        dyrow = dyk[i]
                        if sw == 1:
                            for j in range(j0, j1):
                                acc += dyrow[j] * xrow[j + off]
                        else:
                            for j in range(j0, j1):
                                acc += dyrow[j] * xrow[j * sw + off]
                dw[k, c, r, s] = acc


# Stride-1 direct kernels. Trick: treat each padded input plane as one flat row of Hp*Wp values
# and compute "extended" output rows of width Wp (the last Wp - OW columns of each row are
# garbage, dropped afterwards). Then every filter tap (r, s) is ONE long contiguous axpy/dot
# at offset r*Wp + s, which vectorises, instead of OH short rows whose loop overhead dominates.


@njit(cache=True, nogil=True)
def _add_taps4x3(a0, a1, a2, w, v, z, x0, x1, x2, x3):
    """a0 += w[0]*x0 + ... + w[3]*x3, a1 the same with v, a2 with z (three filters, four taps),
    summed left to right: exactly the rounding of adding one tap at a time."""
    w0, w1, w2, w3 = w
    v0, v1, v2, v3 = v
    z0, z1, z2, z3 = z
    for p in range(a0.shape[0]):
        u0, u1, u2, u3 = x0[p], x1[p], x2[p], x3[p]  # each input value loaded once, used thrice
        a0[p] = a0[p] + w0 * u0 + w1 * u1 + w2 * u2 + w3 * u3
        a1[p] = a1[p] + v0 * u0 + v1 * u1 + v2 * u2 + v3 * u3
        a2[p] = a2[p] + z0 * u0 + z1 * u1 + z2 * u2 + z3 * u3


# Same with fused multiply-adds ("contract"): ~20% faster, rounding differs in the last bit.
# Used for float32 only; float64 stays bit-for-bit the plain order, which keeps the finite-
# difference gradient checks (run in float64) exactly where they were.
@njit(cache=True, nogil=True, fastmath={"contract"})
def _add_taps4x3_fma(a0, a1, a2, w, v, z, x0, x1, x2, x3):
    w0, w1, w2, w3 = w
    v0, v1, v2, v3 = v
    z0, z1, z2, z3 = z
    for p in range(a0.shape[0]):
        u0, u1, u2, u3 = x0[p], x1[p], x2[p], x3[p]
        a0[p] = a0[p] + w0 * u0 + w1 * u1 + w2 * u2 + w3 * u3
        a1[p] = a1[p] + v0 * u0 + v1 * u1 + v2 * u2 + v3 * u3
        a2[p] = a2[p] + z0 * u0 + z1 * u1 + z2 * u2 + z3 * u3


@njit(cache=True, parallel=True)
def _conv_s1_fwd(xp, w, b, y, fma):
    """xp: padded input (N, C, Hp, Wp); b: (K,); y: (N, K, OH, OW) with OH = Hp - R + 1, OW = Wp - S + 1.

    ``fma``: use fused multiply-adds (float32); otherwise the sums keep the plain order.
    """
    N, C, Hp, Wp = xp.shape
    K, _, R, S = w.shape
    OH, OW = y.shape[2], y.shape[3]
    L = (OH - 1) * Wp + OW  # extended output length that stays inside the flat input plane
    RS = R * S
    KB = (K + 2) // 3
    # Register blocking without registers: each task computes THREE filters of one sample,
    # four taps per pass over their running sums. The loop is bound by loads and stores, and
    # this way each pass loads 4 inputs + 3 sums and stores 3 sums for 12 multiply-adds (one
    # filter, one tap at a time: 2 loads and 1 store per multiply-add).
    for task in prange(N * KB):
        n = task // KB
        k = 3 * (task - n * KB)
        k1 = min(k + 1, K - 1)  # K not a multiple of 3: the last task repeats filter K-1,
        k2 = min(k + 2, K - 1)  # and stores it once
        acc = np.zeros((3, OH * Wp), dtype=xp.dtype)
        a0, a1, a2 = acc[0, :L], acc[1, :L], acc[2, :L]
        for c in range(C):
            xf = xp[n, c].reshape(Hp * Wp)
            wf = w[k, c].reshape(RS)
            vf = w[k1, c].reshape(RS)
            zf = w[k2, c].reshape(RS)
            t = 0  # tap t = r*S + s reads the flat plane at offset r*Wp + s
            while t + 4 <= RS:
                o0 = (t // S) * Wp + t % S
                o1 = ((t + 1) // S) * Wp + (t + 1) % S
                o2 = ((t + 2) // S) * Wp + (t + 2) % S
                o3 = ((t + 3) // S) * Wp + (t + 3) % S
                wt = (wf[t], wf[t + 1], wf[t + 2], wf[t + 3])
                vt = (vf[t], vf[t + 1], vf[t + 2], vf[t + 3])
                zt = (zf[t], zf[t + 1], zf[t + 2], zf[t + 3])
                x0, x1, x2, x3 = xf[o0 : o0 + L], xf[o1 : o1 + L], xf[o2 : o2 + L], xf[o3 : o3 + L]
                if fma:
                    _add_taps4x3_fma(a0, a1, a2, wt, vt, zt, x0, x1, x2, x3)
                else:
                    _add_taps4x3(a0, a1, a2, wt, vt, zt, x0, x1, x2, x3)
                t += 4
            while t < RS:  # the last RS % 4 taps one at a time
                o0 = (t // S) * Wp + t % S
                w0, v0, z0 = wf[t], vf[t], zf[t]
                x0 = xf[o0 : o0 + L]
                for p in range(L):
                    a0[p] += w0 * x0[p]
                    a1[p] += v0 * x0[p]
                    a2[p] += z0 * x0[p]
                t += 1
        for q in range(3):
            kq = k + q
            if kq < K:
                yk = y[n, kq]
                bk = b[kq]
                for i in range(OH):  # drop the garbage columns and add the bias in one pass
                    row = acc[q, i * Wp : i * Wp + OW]
                    out = yk[i]
                    for j in range(OW):
                        out[j] = row[j] + bk


@njit(cache=True, parallel=True)
def _conv_s1_dx(dy, w, dxp):
    """dxp: padded input gradient (N, C, Hp, Wp), fully overwritten."""
    N, C, Hp, Wp = dxp.shape
    K, _, R, S = w.shape
    OH, OW = dy.shape[2], dy.shape[3]
    L = (OH - 1) * Wp + OW
    zero = dxp.dtype.type(0)
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        dxf = dxp[n, c].reshape(Hp * Wp)
        for p in range(Hp * Wp):
            dxf[p] = zero
        ext = np.zeros(L, dtype=dxp.dtype)  # dy[n, k] with rows widened to Wp by zeros
        for k in range(K):
            dyk = dy[n, k]
            for i in range(OH):
                row = dyk[i]
                for j in range(OW):
                    ext[i * Wp + j] = row[j]
            wk = w[k, c]
            for r in range(R):
                for s in range(S):
                    wv = wk[r, s]
                    dst = dxf[r * Wp + s : r * Wp + s + L]
                    for p in range(L):
                        dst[p] += wv * ext[p]


@njit(cache=True, parallel=True, fastmath=True)  # fastmath: lets the dot products vectorise
def _conv_s1_dw(dy, xp, dw):
    N, C, Hp, Wp = xp.shape
    K, _, R, S = dw.shape
    OH, OW = dy.shape[2], dy.shape[3]
    L = (OH - 1) * Wp + OW
    for task in prange(K * C):
        k = task // C
        c = task - k * C
        acc = np.zeros((R, S), dtype=xp.dtype)
        ext = np.zeros(L, dtype=xp.dtype)
        for n in range(N):
            dyk = dy[n, k]
            for i in range(OH):
                row = dyk[i]
                for j in range(OW):
                    ext[i * Wp + j] = row[j]
            xf = xp[n, c].reshape(Hp * Wp)
            for r in range(R):
                for s in range(S):
                    src = xf[r * Wp + s : r * Wp + s + L]
                    t = xp.dtype.type(0)
                    for p in range(L):
                        t += ext[p] * src[p]
                    acc[r, s] += t
        for r in range(R):
            for s in range(S):
                dw[k, c, r, s] = acc[r, s]


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


@njit(cache=True, parallel=True)
def _im2col_nchw(x, R, S, sh, sw, ph, pw, OH, OW, cols):
    """cols[n, (c*R + r)*S + s, i*OW + j] = x_padded[n, c, i*sh + r, j*sw + s]; parallel over planes."""
    N, C = x.shape[0], x.shape[1]
    RS = R * S
    for task in prange(N * C):
        n = task // C
        c = task - n * C
        _im2col_plane(x[n, c], R, S, sh, sw, ph, pw, OH, OW, cols[n, c * RS : (c + 1) * RS])


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


# --------------------------------------------------------------------------- workspace

# Scratch buffers are per calling thread: two threads calling conv2d at once must never share one.
_LOCAL = threading.local()


# Below this many multiply-adds (or elements, for pooling) a kernel runs on one thread: waking
# and joining the worker threads costs more than the work, and on a busy 2-core machine a
# parallel region waits for its slowest (descheduled) thread.
PARALLEL_MIN_WORK = 1 << 20


def _run(kernel, work, *args):
    """Call a ``parallel=True`` kernel, on one thread when ``work`` is small."""
    if work >= PARALLEL_MIN_WORK or numba.get_num_threads() == 1:
        return kernel(*args)
    prev = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(prev)


def _padded(x, ph, pw):
    """x with ph zero rows above/below and pw zero columns left/right (no copy when both are 0)."""
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    xp[:, :, ph : ph + H, pw : pw + W] = x
    return xp


try:  # optional: pins numpy's BLAS to one thread while our own threads share the samples
    from threadpoolctl import ThreadpoolController

    _BLAS = ThreadpoolController()
except ImportError:  # pragma: no cover - without it BLAS keeps its threads; results are the same
    _BLAS = None

_POOL = None
_POOL_LOCK = threading.Lock()


def _gemm_threads(N, buf_shape, dtype, task, work):
    """Run ``task(n0, n1, cols)`` over sample ranges on T Python threads, one pool at a time.

    The GEMM path's one thread pool: T threads (T = numba's thread count) each take a
    contiguous share of the samples and run numba's serial, GIL-free im2col and a
    single-threaded BLAS call per sample, with a per-thread (C*R*S, OH*OW) buffer that stays
    in cache. Letting numba's workers and BLAS's workers take turns instead makes them
    fight: each pool's idle threads spin while the other works, which on 2 cores was
    measured 10x slower than either alone.
    """
    global _POOL
    T = 1 if work < PARALLEL_MIN_WORK else max(1, min(numba.get_num_threads(), N))
    bufs = _workspace((T, *buf_shape), dtype)
    bounds = [(N * t // T, N * (t + 1) // T) for t in range(T)]
    if T == 1:
        task(0, N, bufs[0])
        return
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < T:
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(max_workers=T, thread_name_prefix="dlbook-gemm")
    limit = _BLAS.limit(limits=1, user_api="blas") if _BLAS is not None else _nullcontext()
    with limit:
        futures = [_POOL.submit(task, n0, n1, bufs[t]) for t, (n0, n1) in enumerate(bounds[1:], 1)]
        task(*bounds[0], bufs[0])  # the calling thread does the first share
        for f in futures:
            f.result()


# Samples per GEMM on the stride-1 GEMM path: fewer, wider matrix products run nearer the BLAS
# roof (measured: one sample per product ~15% slower than four), while the group's columns
# still fit in a few MB of workspace.
GEMM_GROUP = 4


class _S1Layout:
    """Sizes of the stride-1 GEMM path and the carving of one thread's flat workspace into
    ``xpad`` (C, Hp*Wp), ``cols`` (C*R*S, g*L) and ``ext`` (K, g*L) for a group of g samples."""

    def __init__(self, x_shape, w_shape, ph, pw, OH, OW):
        _, C, H, W = x_shape
        K, _, R, S = w_shape
        self.Wp = W + 2 * pw
        self.L = (OH - 1) * self.Wp + OW  # extended output length per sample
        self.sizes = (C, (H + 2 * ph) * self.Wp), C * R * S, K
        self.buf_size = C * (H + 2 * ph) * self.Wp + (C * R * S + K) * GEMM_GROUP * self.L

    def carve(self, buf, g):
        (C, P), CRS, K = self.sizes
        o1 = C * P
        o2 = o1 + CRS * GEMM_GROUP * self.L
        xpad = buf[:o1].reshape(C, P)
        cols = buf[o1 : o1 + CRS * g * self.L].reshape(CRS, g * self.L)
        ext = buf[o2 : o2 + K * g * self.L].reshape(K, g * self.L)
        return xpad, cols, ext


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


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


# --------------------------------------------------------------------------- public fast API


def _choose(method, C, K, R, S):
    if method not in ("auto", "direct", "gemm"):
        raise ValueError(f"method: expected 'auto', 'direct' or 'gemm', got {method!r}")
    if method != "auto":
        return method
    # Few input channels (a first layer): the matrix product would be too thin to pay.
    return "gemm" if C * R * S >= 64 and K >= 8 else "direct"


def conv2d(x, w, b=None, stride=1, pad=0, *, method="auto"):
    """2-D convolution (cross-correlation, no kernel flip), NCHW.

    x: (N, C, H, W), w: (K, C, R, S), b: (K,) or None -> y: (N, K, OH, OW),
    ``OH = (H + 2*pad - R) // stride + 1`` (floor, like PyTorch; see :func:`conv_output_size`
    for the strict formula). float32 in, float32 out; float64 in, float64 out.
    ``stride`` >= 1 and ``pad`` >= 0 are ints or ``(h, w)`` pairs. ``method`` is
    ``"auto"`` (pick by shape), ``"direct"`` (numba loops) or ``"gemm"`` (im2col + BLAS).
    Raises ``ValueError`` naming the shapes on a channel mismatch, a wrong ndim, a kernel
    larger than the padded input, ``stride <= 0`` or ``pad < 0``.
    """
    if _cuda_on_device(x, w, b):  # GPU arrays: dlbook.cuda's kernel (docs/reference/gpu.md)
        return _cuda.conv2d(x, w, b, stride=stride, pad=pad)
    x, w, b, (sh, sw), (ph, pw), (OH, OW) = _check_conv(x, w, b, stride, pad)
    N, C = x.shape[:2]
    K, _, R, S = w.shape
    y = np.empty((N, K, OH, OW), dtype=x.dtype)
    work = N * K * OH * OW * C * R * S
    if _choose(method, C, K, R, S) == "direct":
        if (sh, sw) == (1, 1):
            bias = b if b is not None else np.zeros(K, dtype=x.dtype)
            _run(_conv_s1_fwd, work, _padded(x, ph, pw), w, bias, y, x.dtype == np.float32)
            return y
        elif (ph or pw) and not np.isfinite(w).all():
            # The direct kernel skips padding taps; 0 * inf must still give NaN there, as it
            # does in PyTorch and on the other paths: pad explicitly in this rare case.
            _run(_conv_direct_fwd, work, _padded(x, ph, pw), w, y, sh, sw, 0, 0)
        else:
            _run(_conv_direct_fwd, work, x, w, y, sh, sw, ph, pw)
    elif (sh, sw) == (1, 1):
        W2 = w.reshape(K, -1)
        bias = b if b is not None else np.zeros(K, dtype=x.dtype)
        s1 = _S1Layout(x.shape, w.shape, ph, pw, OH, OW)

        def forward_groups(n0, n1, buf):  # one thread's share, GEMM_GROUP samples per GEMM
            for g0 in range(n0, n1, GEMM_GROUP):
                g = min(GEMM_GROUP, n1 - g0)
                xpad, cols, ext = s1.carve(buf, g)
                for m in range(g):
                    _im2col_s1(x[g0 + m], R, S, ph, pw, xpad, cols, m * s1.L, s1.L)
                np.matmul(W2, cols, out=ext)
                for m in range(g):
                    _crop_s1(ext, m * s1.L, s1.Wp, bias, y[g0 + m])

        _gemm_threads(N, (s1.buf_size,), x.dtype, forward_groups, work)
        return y
    else:
        geom = (R, S, sh, sw, ph, pw, OH, OW)
        W2 = w.reshape(K, -1)
        y2 = y.reshape(N, K, OH * OW)

        def forward_samples(n0, n1, cols):  # one thread's share: im2col one sample, then one GEMM
            for n in range(n0, n1):
                _im2col_sample(x[n], *geom, cols)
                np.matmul(W2, cols, out=y2[n])

        _gemm_threads(N, (C * R * S, OH * OW), x.dtype, forward_samples, work)
    if b is not None:
        y += b[:, None, None]
    return y


def conv2d_backward(dy, x, w, stride=1, pad=0, *, method="auto", need_dx=True):
    """Gradients of :func:`conv2d` (the bias gradient does not depend on ``b``).

    dy: (N, K, OH, OW), x: (N, C, H, W), w: (K, C, R, S)
    -> (dx (N, C, H, W), dw (K, C, R, S), db (K,)), each in the input dtype.
    ``need_dx=False`` skips dx and returns None in its place (a network's first layer).
    """
    if _cuda_on_device(dy, x, w):  # GPU arrays: dlbook.cuda's kernel (docs/reference/gpu.md)
        return _cuda.conv2d_backward(dy, x, w, stride=stride, pad=pad, need_dx=need_dx)
    x, w, _, (sh, sw), (ph, pw), (OH, OW) = _check_conv(x, w, None, stride, pad)
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    dy = _check_dy(dy, (N, K, OH, OW), x.dtype)
    db = dy.sum(axis=(0, 2, 3))
    dx = np.empty_like(x) if need_dx else None
    work = N * K * OH * OW * C * R * S
    if _choose(method, C, K, R, S) == "direct":
        dw = np.empty_like(w)
        if (sh, sw) == (1, 1):
            _run(_conv_s1_dw, work, dy, _padded(x, ph, pw), dw)
            if need_dx:
                if ph == 0 and pw == 0:
                    _run(_conv_s1_dx, work, dy, w, dx)
                else:
                    dxp = np.empty((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
                    _run(_conv_s1_dx, work, dy, w, dxp)
                    dx[...] = dxp[:, :, ph : ph + H, pw : pw + W]
        else:
            _run(_conv_direct_dw, work, dy, x, dw, sh, sw, ph, pw)
            if need_dx:
                _run(_conv_direct_dx, work, dy, w, dx, sh, sw, ph, pw)
    elif (sh, sw) == (1, 1):
        W2t = w.reshape(K, -1).T
        s1 = _S1Layout(x.shape, w.shape, ph, pw, OH, OW)
        partial_dw = []

        def backward_groups(n0, n1, buf):  # one thread's share, GEMM_GROUP samples per GEMM
            dw_part = np.zeros((K, C * R * S), dtype=x.dtype)
            tmp = np.empty_like(dw_part)
            for g0 in range(n0, n1, GEMM_GROUP):
                g = min(GEMM_GROUP, n1 - g0)
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
            partial_dw.append(dw_part)

        _gemm_threads(N, (s1.buf_size,), x.dtype, backward_groups, work)
        dw = np.sum(partial_dw, axis=0).astype(x.dtype, copy=False).reshape(w.shape)
    else:
        geom = (R, S, sh, sw, ph, pw, OH, OW)
        W2t = w.reshape(K, -1).T
        dy2 = dy.reshape(N, K, OH * OW)
        partial_dw = []

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
            partial_dw.append(dw_part)

        _gemm_threads(N, (C * R * S, OH * OW), x.dtype, backward_samples, work)
        dw = np.sum(partial_dw, axis=0).astype(x.dtype, copy=False).reshape(w.shape)
    return dx, dw, db


def max_pool2d(x, size=2, stride=None):
    """Max pooling (最大池化): the largest value of each ``size`` window.

    x: (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - size) // stride + 1``; ``stride`` defaults
    to ``size``. ``stride < size`` gives overlapping windows (AlexNet's 3x3, stride 2).
    """
    if _cuda_on_device(x):  # GPU arrays: dlbook.cuda's kernel (docs/reference/gpu.md)
        return _cuda.max_pool2d(x, size, stride)
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
    y = np.empty((*x.shape[:2], OH, OW), dtype=x.dtype)
    _run(_max_pool_fwd, x.size, x, kh, kw, sh, sw, y)
    return y


def max_pool2d_backward(dy, x, size=2, stride=None):
    """Gradient of :func:`max_pool2d`: each ``dy`` goes to the first maximum (row-major) of its window.

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W); overlapping windows add up.
    """
    if _cuda_on_device(dy, x):  # GPU arrays: dlbook.cuda's kernel (docs/reference/gpu.md)
        return _cuda.max_pool2d_backward(dy, x, size, stride)
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
    dy = _check_dy(dy, (*x.shape[:2], OH, OW), x.dtype)
    dx = np.empty_like(x)
    _run(_max_pool_bwd, x.size, dy, x, kh, kw, sh, sw, dx)
    return dx


def avg_pool2d(x, size=2, stride=None):
    """Average pooling (平均池化): the mean of each ``size`` window.

    x: (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - size) // stride + 1``.
    """
    if _cuda_on_device(x):  # GPU arrays: dlbook.cuda's kernel (docs/reference/gpu.md)
        return _cuda.avg_pool2d(x, size, stride)
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
    y = np.empty((*x.shape[:2], OH, OW), dtype=x.dtype)
    _run(_avg_pool_fwd, x.size, x, kh, kw, sh, sw, y)
    return y


def avg_pool2d_backward(dy, x, size=2, stride=None):
    """Gradient of :func:`avg_pool2d`: each ``dy`` is shared equally by its window's pixels.

    dy: (N, C, OH, OW), x: (N, C, H, W) -> dx: (N, C, H, W).
    """
    if _cuda_on_device(dy, x):  # GPU arrays: dlbook.cuda's kernel (docs/reference/gpu.md)
        return _cuda.avg_pool2d_backward(dy, x, size, stride)
    x, (kh, kw), (sh, sw), (OH, OW) = _check_pool(x, size, stride)
    dy = _check_dy(dy, (*x.shape[:2], OH, OW), x.dtype)
    dx = np.empty_like(x)
    _run(_avg_pool_bwd, x.size, dy, kh, kw, sh, sw, dx)
    return dx
