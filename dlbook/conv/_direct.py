"""Direct convolution kernels: numba loops, parallel over (sample, filter) — speed machinery (appendix: docs/appendix/convolution.md).

Best for few input channels (a CNN's first layer), where a matrix product would be too thin to
pay. Each step adds ``w[k, c, r, s] * (a contiguous input row)`` to an output row. Conventions:
accumulate in the input dtype; index through slice views (rows), never computed flat offsets;
padding is handled by clipping index ranges, never by copying x (except with stride 1, where a
padded copy lets the 3-wide taps run unclipped). :func:`forward` and :func:`backward` are the
entry points :func:`dlbook.conv.conv2d` calls; the plain-loop oracle is
:func:`dlbook.conv.conv2d_reference` (tests/test_conv.py checks they agree).
"""

import numpy as np
from numba import njit, prange

from .._parallel import PARALLEL_MIN_WORK, run_parallel
from ._common import out_size, padded

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


# Below this many multiply-adds, with at most TINY_TAPS taps per output, the stride-1 forward is
# a few numpy sums (_conv_s1_numpy) instead of the kernel: a reader's first small convolution
# (the pages' 4x4 and 5x5 examples) does not wait seconds for the kernel to compile, and in
# float64 the result is the kernel's bit for bit (the same sums in the same order).
TINY_WORK = 1 << 14
TINY_TAPS = 64


def _conv_s1_numpy(xp, w, b, y):
    """y = conv2d(xp, w) + b, stride 1, as numpy sums: each tap (c, r, s) in turn adds
    ``w[:, c, r, s]`` times the shifted input plane to every output, as :func:`_conv_s1_fwd` does
    (without fused multiply-adds)."""
    K, C, R, S = w.shape
    OH, OW = y.shape[2], y.shape[3]
    acc = np.zeros((xp.shape[0], K, OH, OW), dtype=xp.dtype)
    for c in range(C):
        for r in range(R):
            for s in range(S):
                acc += w[None, :, c, r, s, None, None] * xp[:, None, c, r : r + OH, s : s + OW]
    np.add(acc, b[None, :, None, None], out=y)


def forward(x, w, b, stride, pad, *, min_work=PARALLEL_MIN_WORK, tiny_work=TINY_WORK):
    """y = conv2d(x, w) + b for checked arrays: x (N, C, H, W), w (K, C, R, S), b (K,) or None."""
    (sh, sw), (ph, pw) = stride, pad
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    y = np.empty((N, K, out_size(H, R, sh, ph), out_size(W, S, sw, pw)), dtype=x.dtype)
    work = y.size * C * R * S
    if (sh, sw) == (1, 1):  # bias added inside the kernel
        bias = b if b is not None else np.zeros(K, dtype=x.dtype)
        if work < min(tiny_work, min_work) and C * R * S <= TINY_TAPS:
            _conv_s1_numpy(padded(x, ph, pw), w, bias, y)
            return y
        run_parallel(_conv_s1_fwd, work, padded(x, ph, pw), w, bias, y, x.dtype == np.float32, min_work=min_work)
        return y
    if (ph or pw) and not np.isfinite(w).all():
        # The kernel skips padding taps; 0 * inf must still give NaN there, as it does in
        # PyTorch and on the other paths: pad explicitly in this rare case.
        x, ph, pw = padded(x, ph, pw), 0, 0
    run_parallel(_conv_direct_fwd, work, x, w, y, sh, sw, ph, pw, min_work=min_work)
    if b is not None:
        y += b[:, None, None]
    return y


def backward(dy, x, w, stride, pad, need_dx, *, min_work=PARALLEL_MIN_WORK):
    """(dx or None, dw) for checked arrays (db is dy summed, computed by the caller)."""
    (sh, sw), (ph, pw) = stride, pad
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    work = dy.size * C * R * S
    dw = np.empty_like(w)
    dx = np.empty_like(x) if need_dx else None
    if (sh, sw) != (1, 1):
        run_parallel(_conv_direct_dw, work, dy, x, dw, sh, sw, ph, pw, min_work=min_work)
        if need_dx:
            run_parallel(_conv_direct_dx, work, dy, w, dx, sh, sw, ph, pw, min_work=min_work)
        return dx, dw
    run_parallel(_conv_s1_dw, work, dy, padded(x, ph, pw), dw, min_work=min_work)
    if need_dx:
        if ph == 0 and pw == 0:
            run_parallel(_conv_s1_dx, work, dy, w, dx, min_work=min_work)
        else:
            dxp = np.empty((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
            run_parallel(_conv_s1_dx, work, dy, w, dxp, min_work=min_work)
            dx[...] = dxp[:, :, ph : ph + H, pw : pw + W]
    return dx, dw
