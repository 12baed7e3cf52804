"""Winograd F(2x2, 3x3) convolution for 3x3 filters with stride 1 — speed machinery (appendix: docs/appendix/convolution.md).

Lavin & Gray (2016): a 2x2 block of outputs of a 3x3 convolution needs 36 multiplications done
directly, but only 16 after a change of basis. For each 4x4 input tile ``d`` and 3x3 filter ``g``:

    Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A        (⊙: elementwise, on 4x4 matrices)

with the fixed matrices below. Summed over channels, the 16 elementwise products become 16
independent matrix products, one per position of the 4x4 grid:

    M[e] = U[e] @ V[e]     U[e]: (K, C) filters,  V[e]: (C, tiles),  e = 0..15

so BLAS does 2.25x fewer multiplications than im2col + GEMM, while numba does the cheap
transforms (``V`` from the input tiles, ``Y`` from ``M``). The error against the direct
convolution is a few float32 rounding steps (tests/test_conv.py measures it).
"""

import numpy as np
from numba import njit

from .._parallel import PARALLEL_MIN_WORK, split_samples, thread_count
from ._common import out_size
from ._gemm import _workspace

# The F(2x2, 3x3) matrices (Lavin & Gray, 2016).
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def filter_transform(w):
    """U[e] = (G w[k, c] G^T) flattened to 16 positions: w (K, C, 3, 3) -> U (16, K, C)."""
    K, C = w.shape[:2]
    U = np.einsum("ar,kcrs,bs->abkc", G, w.astype(np.float64), G)  # (4, 4, K, C), exact in float64
    return np.ascontiguousarray(U.reshape(16, K, C), dtype=w.dtype)


@njit(cache=True, nogil=True)
def _input_transform(xn, ph, pw, th, tw, V, p0):
    """V[:, c, p0 + i*tw + j] = B^T d B for the 4x4 tile d of sample xn (C, H, W) at (2i - ph, 2j - pw)."""
    C, H, W = xn.shape
    zero = xn.dtype.type(0)
    d = np.empty((4, 4), xn.dtype)
    t = np.empty((4, 4), xn.dtype)
    for c in range(C):
        xc = xn[c]
        for i in range(th):
            for j in range(tw):
                r0, s0 = 2 * i - ph, 2 * j - pw
                for r in range(4):
                    rr = r0 + r
                    for s in range(4):
                        ss = s0 + s
                        d[r, s] = xc[rr, ss] if 0 <= rr < H and 0 <= ss < W else zero
                for s in range(4):  # t = B^T d
                    t[0, s] = d[0, s] - d[2, s]
                    t[1, s] = d[1, s] + d[2, s]
                    t[2, s] = d[2, s] - d[1, s]
                    t[3, s] = d[1, s] - d[3, s]
                p = p0 + i * tw + j
                for r in range(4):  # V = t B
                    V[4 * r + 0, c, p] = t[r, 0] - t[r, 2]
                    V[4 * r + 1, c, p] = t[r, 1] + t[r, 2]
                    V[4 * r + 2, c, p] = t[r, 2] - t[r, 1]
                    V[4 * r + 3, c, p] = t[r, 1] - t[r, 3]


@njit(cache=True, nogil=True)
def _output_transform(M, b, th, tw, p0, yn):
    """yn[k, 2i:2i+2, 2j:2j+2] = A^T m A + b[k], m the 4x4 grid of M[:, k, p0 + i*tw + j] (cropped).

    A^T m: row 0 = m0 + m1 + m2, row 1 = m1 - m2 - m3 (m0..m3 the rows of m); then times A the
    same on the columns. M is read as 16 contiguous rows per filter, one element each per tile.
    """
    K, OH, OW = yn.shape
    for k in range(K):
        bk = b[k]
        Mk = M[:, k, p0 : p0 + th * tw]
        for i in range(th):
            for j in range(tw):
                p = i * tw + j
                c0 = Mk[0, p] + Mk[4, p] + Mk[8, p]       # column s of row 0 of A^T m, s = 0..3
                c1 = Mk[1, p] + Mk[5, p] + Mk[9, p]
                c2 = Mk[2, p] + Mk[6, p] + Mk[10, p]
                c3 = Mk[3, p] + Mk[7, p] + Mk[11, p]
                d0 = Mk[4, p] - Mk[8, p] - Mk[12, p]      # row 1 of A^T m
                d1 = Mk[5, p] - Mk[9, p] - Mk[13, p]
                d2 = Mk[6, p] - Mk[10, p] - Mk[14, p]
                d3 = Mk[7, p] - Mk[11, p] - Mk[15, p]
                oi, oj = 2 * i, 2 * j
                yn[k, oi, oj] = c0 + c1 + c2 + bk
                if oj + 1 < OW:
                    yn[k, oi, oj + 1] = c1 - c2 - c3 + bk
                if oi + 1 < OH:
                    yn[k, oi + 1, oj] = d0 + d1 + d2 + bk
                    if oj + 1 < OW:
                        yn[k, oi + 1, oj + 1] = d1 - d2 - d3 + bk


def supports(w, stride):
    """Winograd F(2x2, 3x3) applies to 3x3 filters with stride 1."""
    return w.shape[2:] == (3, 3) and tuple(stride) == (1, 1)


def forward(x, w, b, stride, pad, *, min_work=PARALLEL_MIN_WORK):
    """y = conv2d(x, w) + b for checked arrays: x (N, C, H, W), w (K, C, 3, 3), stride 1."""
    (ph, pw) = pad
    N, C, H, W = x.shape
    K = w.shape[0]
    OH, OW = out_size(H, 3, 1, ph), out_size(W, 3, 1, pw)
    th, tw = (OH + 1) // 2, (OW + 1) // 2
    U = filter_transform(w)
    bias = b if b is not None else np.zeros(K, dtype=x.dtype)
    y = np.empty((N, K, OH, OW), dtype=x.dtype)
    tiles = th * tw
    T = thread_count(N, y.size * C * 9, min_work)
    per = -(-N // T)  # samples per thread, rounded up

    def run(n0, n1, buf):  # one thread's samples: transform, 16 GEMMs, transform back
        n = n1 - n0
        V = buf[: 16 * C * n * tiles].reshape(16, C, n * tiles)
        M = buf[16 * C * per * tiles : 16 * C * per * tiles + 16 * K * n * tiles].reshape(16, K, n * tiles)
        for m in range(n):
            _input_transform(x[n0 + m], ph, pw, th, tw, V, m * tiles)
        np.matmul(U, V, out=M)
        for m in range(n):
            _output_transform(M, bias, th, tw, m * tiles, y[n0 + m])

    buffers = list(_workspace((T, 16 * (C + K) * per * tiles), x.dtype))
    split_samples(N, run, buffers)
    return y
