"""Register-tiled matrix products on the GPU: ``matmul`` and the Affine layer's forward/backward.

The kernels are *generated*: :func:`make_gemm_kernel` writes the source of a tiled GEMM for one
tile shape and operand layout, with every per-thread accumulator a separate scalar variable
(``c0_0``, ``c0_1``, ...). numba keeps a local *array* in registers only when it can fully
unroll every loop that indexes it (otherwise it spills to slow local memory: seen with 8x8
arrays); named scalars are registers by construction, so the tile can grow to 8x8 outputs per
thread.

Scheme (per thread block, ``NT = (BM/TM) * (BN/TN)`` threads):

- the block owns a ``BM x BN`` tile of ``C``; it walks the K dimension ``BK`` at a time,
  staging an ``A`` tile (stored transposed, ``As[k, m]``) and a ``B`` tile (``Bs[k, n]``)
  in shared memory; with ``prefetch`` the next tiles are loaded into registers while the
  current ones are multiplied (global-memory latency hidden behind arithmetic);
- thread ``(ty, tx)`` owns rows ``ty + (BM/TM)*i`` and columns ``tx + (BN/TN)*j``: strided, so
  a warp reads consecutive shared-memory words (no bank conflicts) and writes coalesced rows;
- out-of-range elements load as 0 and are never stored: any M, N, K works.

The same generator builds the implicit-GEMM convolution in :mod:`dlbook.cuda.conv` (its B
operand is gathered from the image on the fly), so there is one tiled kernel to read.
"""

import math

import numba
import numpy as np

from ._util import SIM, ceil_div, cuda, dev, empty, grid1d, zeros

__all__ = ["make_gemm_kernel", "GemmConfig", "matmul", "affine_forward", "affine_backward", "sum_rows"]


@cuda.jit(device=True, inline=True)
def _sigmoid(x, one):
    # overflow-free logistic sigmoid in x's dtype (one = 1 in that dtype), one exp, no branch
    z = math.exp(-abs(x))
    return (one if x >= 0 else z) / (one + z)


class GemmConfig(tuple):
    """Tile shape ``(BM, BN, BK, TM, TN, prefetch, vec, unroll)``.

    vec: each thread owns its rows/columns in runs of 4 adjacent ones (``ty*4 + (BM/TM*4)*i``),
    so its shared-memory reads are 16-byte vector loads (4x fewer load instructions);
    otherwise they are strided by the thread count (``ty + BM/TM*i``), one word each.
    unroll: write out the ``BK`` steps of the inner product (literal indices let the compiler
    issue the next step's shared-memory loads under this step's FMAs; compiles slower).
    """

    def __new__(cls, BM, BN, BK, TM, TN, prefetch=True, vec=False, unroll=False):
        return super().__new__(cls, (BM, BN, BK, TM, TN, bool(prefetch), bool(vec), bool(unroll)))

    @property
    def threads(self):
        BM, BN, BK, TM, TN = self[:5]
        return (BM // TM) * (BN // TN)


# 128x128 tiles, 8x8 outputs per thread, 256 threads: 64 accumulators + 16 operands in registers.
DEFAULT = GemmConfig(128, 128, 8, 8, 8, True, True, True)
# Fewer, smaller tiles for small products (keeps more blocks in flight).
SMALL = GemmConfig(64, 64, 16, 4, 4, True)
# What the simulator tests use (fast on a CPU; same generated code shape).
SIM_CONFIG = GemmConfig(16, 16, 4, 2, 2, True)


def _split(NT, S, it):
    """Linear index ``t + NT*it`` over rows of length ``S`` -> (fast, slow) source expressions."""
    if NT % S == 0:
        return f"(t % {S})", f"(t // {S} + {it * (NT // S)})"
    if S % NT == 0:
        per = S // NT
        return f"(t + {NT * (it % per)})", f"{it // per}"
    raise ValueError(f"tile shape: {NT} threads cannot stage rows of {S}")


def make_gemm_kernel(
    dtype, cfg=DEFAULT, a="n", b="n", epilogue="plain", bias="none", accumulate=False, split=False, a3=False,
    persistent=False, source_only=False,
):
    """Generate and compile a tiled GEMM ``C (M, N) = A (M, K) @ B (K, N)``.

    a: "n" A stored (M, K); "t" A stored (K, M) (A is the transpose of what is passed).
    b: "n" B stored (K, N); "t" B stored (N, K); "conv" B gathered from a (zero-padded) image:
    implicit im2col, ``B[crs, col] = x[base(col) + toff[crs]]`` with no bounds checks inside.
    epilogue: "plain" C[r, c]; "conv" scatter to NCHW output (rows = filters, cols = n*P*Q + pq).
    bias: "none", "row" (bias[r]) or "col" (bias[c]). accumulate: C += A @ B.
    a3: A is a stack ``(S, M, K)`` and the product uses ``A[aidx]`` (an extra argument): one
    launch per step of a recurrence, without slicing a new array view each time.
    persistent (with epilogue="lstm"): one launch runs all T steps of the recurrence, the
    blocks meeting at a grid-wide barrier after each step (a cooperative launch: the grid must
    fit on the GPU at once).
    split: split-K; block ``z`` sums K range ``[z*KS, (z+1)*KS)`` into ``C[z]`` (C is (splits, M, N));
    :func:`gemm` then adds the partial products (for few, long products such as weight gradients).
    """
    if split and (epilogue != "plain" or bias != "none" or accumulate):
        raise ValueError("split-K kernels write plain partial products")
    BM, BN, BK, TM, TN, prefetch, vec, unroll = cfg
    vec_rows, vec_cols = vec and TM % 4 == 0, vec and TN % 4 == 0  # runs of 4 where they fit

    def row(i):  # offset of the thread's i-th row inside the tile, given ty (or ty4 = 4*ty)
        return f"ty4 + {TY * 4 * (i // 4) + i % 4}" if vec_rows else f"ty + {TY * i}"

    def colx(j):
        return f"tx4 + {TX * 4 * (j // 4) + j % 4}" if vec_cols else f"tx + {TX * j}"

    if epilogue == "lstm" and not vec_cols:
        raise ValueError(f"tile shape {cfg}: the LSTM epilogue needs vec and TN a multiple of 4")
    TX, TY = BN // TN, BM // TM
    NT = TX * TY
    LA, LB = BM * BK // NT, BK * BN // NT
    if LA * NT != BM * BK or LB * NT != BK * BN or LA < 1 or LB < 1:
        raise ValueError(f"tile shape {cfg}: tiles must split evenly over {NT} threads")
    PAD_A = 4 if a == "n" else 0  # As[k, m] written with k fastest: pad rows against bank conflicts
    PAD_B = 4 if b == "t" else 0
    args = ["A", "B", "C", "bias", "M", "N", "K"]
    if b == "conv":
        args += ["toff", "CHW", "W", "PQ", "Q", "sh", "sw"]
    if epilogue == "conv":
        args += ["KPQ"]
    if epilogue == "lstm":
        args += ["XW", "step", "T", "Cs", "Hs", "G", "h_out", "c_out", "one"]
    if split:
        args += ["KS"]
    if a3:
        if a != "n":
            raise ValueError("a3 needs a row-major A")
        args += ["aidx"]
    L = []

    def emit(depth, line):
        L.append("    " * depth + line)

    emit(0, f"def gemm_kernel({', '.join(args)}):")
    emit(1, "t = cuda.threadIdx.x")
    emit(1, f"tx = t % {TX}")
    emit(1, f"ty = t // {TX}")
    emit(1, "tx4 = tx * 4")
    emit(1, "ty4 = ty * 4")
    emit(1, f"m0 = cuda.blockIdx.y * {BM}")
    emit(1, f"n0 = cuda.blockIdx.x * {BN}")
    # 16-byte aligned tiles let the compiler turn a thread's 4 adjacent reads into one vector
    # load (ld.shared.v4); the simulator does not support the alignment argument.
    align = "" if SIM else ", alignment=16"
    emit(1, f"As = cuda.shared.array(({BK}, {BM + PAD_A}), DT{align})")
    emit(1, f"Bs = cuda.shared.array(({BK}, {BN + PAD_B}), DT{align})")
    emit(1, "zero = DT(0)")
    if split:
        emit(1, "kbeg = cuda.blockIdx.z * KS")
        emit(1, "kend = min(K, kbeg + KS)")
    else:
        emit(1, "kbeg = 0")
        emit(1, "kend = K")
    for i in range(TM):
        emit(1, " = ".join(f"c{i}_{j}" for j in range(TN)) + " = zero")

    # ---- per-slot staging: which element each thread loads (fast dim is contiguous in memory)
    a_slots = [_split(NT, BK if a == "n" else BM, it) for it in range(LA)]
    b_slots = [_split(NT, BN if b in ("n", "conv") else BK, it) for it in range(LB)]
    if b == "conv":
        # Each distinct column a thread stages: decompose n*P*Q + p*Q + q once, before the K loop,
        # into the offset of its receptive field's corner in the (padded) image.
        cols = sorted({fast for fast, _ in b_slots})
        colname = {}
        for ci, fast in enumerate(cols):
            colname[fast] = ci
            emit(1, f"col = n0 + {fast}")
            emit(1, "nn = col // PQ")
            emit(1, "pq = col - nn * PQ")
            emit(1, "pp = pq // Q")
            emit(1, f"cv{ci} = col < N")
            emit(1, f"cb{ci} = nn * CHW + pp * sh * W + (pq - pp * Q) * sw")

    def emit_loads(depth, kb):
        for it, (fast, slow) in enumerate(a_slots):
            if a == "n":  # A[m, k], k fast
                emit(depth, f"ka = {kb} + {fast}")
                emit(depth, f"ma = m0 + {slow}")
                ix = "U(aidx), U(ma), U(ka)" if a3 else "U(ma), U(ka)"
                emit(depth, f"la{it} = A[{ix}] if (ma < M and ka < kend) else zero")
            else:  # A stored [k, m], m fast
                emit(depth, f"ka = {kb} + {slow}")
                emit(depth, f"ma = m0 + {fast}")
                emit(depth, f"la{it} = A[U(ka), U(ma)] if (ma < M and ka < kend) else zero")
        for it, (fast, slow) in enumerate(b_slots):
            if b == "n":  # B[k, n], n fast
                emit(depth, f"kb_ = {kb} + {slow}")
                emit(depth, f"nb = n0 + {fast}")
                emit(depth, f"lb{it} = B[U(kb_), U(nb)] if (nb < N and kb_ < kend) else zero")
            elif b == "t":  # B stored [n, k], k fast
                emit(depth, f"kb_ = {kb} + {fast}")
                emit(depth, f"nb = n0 + {slow}")
                emit(depth, f"lb{it} = B[U(nb), U(kb_)] if (nb < N and kb_ < kend) else zero")
            else:  # implicit im2col: row kb_ = (c, r, s) -> offset toff[kb_]; column -> corner cb
                ci = colname[fast]
                emit(depth, f"kb_ = {kb} + {slow}")
                emit(depth, f"lb{it} = B[U(cb{ci} + toff[U(kb_)])] if (cv{ci} and kb_ < kend) else zero")

    def emit_stores(depth):
        for it, (fast, slow) in enumerate(a_slots):
            emit(depth, f"As[{fast}, {slow}] = la{it}" if a == "n" else f"As[{slow}, {fast}] = la{it}")
        for it, (fast, slow) in enumerate(b_slots):
            emit(depth, f"Bs[{fast}, {slow}] = lb{it}" if b == "t" else f"Bs[{slow}, {fast}] = lb{it}")

    def emit_compute(depth):
        steps = [str(kk) for kk in range(BK)] if unroll else ["kk"]  # unroll: literal K steps
        if steps == ["kk"]:
            emit(depth, f"for kk in range({BK}):")
            depth += 1
        for kk in steps:
            for i in range(TM):
                emit(depth, f"a{i} = As[{kk}, {row(i)}]")
            for j in range(TN):
                emit(depth, f"b{j} = Bs[{kk}, {colx(j)}]")
            for i in range(TM):
                for j in range(TN):
                    emit(depth, f"c{i}_{j} += a{i} * b{j}")

    if prefetch:
        emit_loads(1, "kbeg")
        emit_stores(1)
        emit(1, "cuda.syncthreads()")
        emit(1, "k0 = kbeg")
        emit(1, "while k0 < kend:")
        emit(2, f"kn = k0 + {BK}")
        emit(2, "if kn < kend:")
        emit_loads(3, "kn")
        emit_compute(2)
        emit(2, "cuda.syncthreads()")
        emit(2, "if kn < kend:")
        emit_stores(3)
        emit(2, "cuda.syncthreads()")
        emit(2, "k0 = kn")
    else:
        emit(1, "k0 = kbeg")
        emit(1, "while k0 < kend:")
        emit_loads(2, "k0")
        emit_stores(2)
        emit(2, "cuda.syncthreads()")
        emit_compute(2)
        emit(2, "cuda.syncthreads()")
        emit(2, f"k0 += {BK}")

    # ---- epilogue
    if epilogue == "conv":
        for j in range(TN):
            emit(1, f"col = n0 + {colx(j)}")
            emit(1, "nn = col // PQ")
            emit(1, f"ov{j} = col < N")
            emit(1, f"ob{j} = nn * KPQ + (col - nn * PQ)")
    if epilogue == "lstm":
        # Gate columns are interleaved (4u + gate): the thread's 4 adjacent columns are the
        # i, f, g, o pre-activations of hidden unit u. Add the input part, apply the gates,
        # update the cell: the recurrent product and the step's pointwise work in one kernel.
        for jj in range(TN // 4):
            emit(1, f"u{jj} = (n0 + tx4 + {TX * 4 * jj}) // 4")
        for i in range(TM):
            emit(1, f"r = m0 + {row(i)}")
            emit(1, "if r < M:")
            emit(2, "xr = r * T + step")
            for jj in range(TN // 4):
                u = f"u{jj}"
                emit(2, f"if 4 * {u} < N:")
                emit(3, f"cb = 4 * {u}")
                emit(3, f"gi = sig(c{i}_{4 * jj} + XW[xr, cb], one)")
                emit(3, f"gf = sig(c{i}_{4 * jj + 1} + XW[xr, cb + 1], one)")
                emit(3, f"gg = math.tanh(c{i}_{4 * jj + 2} + XW[xr, cb + 2])")
                emit(3, f"go = sig(c{i}_{4 * jj + 3} + XW[xr, cb + 3], one)")
                emit(3, f"cc = gf * Cs[step, r, {u}] + gi * gg")
                emit(3, "hh = go * math.tanh(cc)")
                emit(3, f"Cs[step + 1, r, {u}] = cc")
                emit(3, f"Hs[step + 1, r, {u}] = hh")
                emit(3, f"c_out[r, step, {u}] = cc")
                emit(3, f"h_out[r, step, {u}] = hh")
                emit(3, "G[step, r, cb] = gi")
                emit(3, "G[step, r, cb + 1] = gf")
                emit(3, "G[step, r, cb + 2] = gg")
                emit(3, "G[step, r, cb + 3] = go")
    for i in range(TM if epilogue != "lstm" else 0):
        emit(1, f"r = m0 + {row(i)}")
        emit(1, "if r < M:")
        if bias == "row":
            emit(2, "br = bias[r]")
        for j in range(TN):
            val = f"c{i}_{j}" + (" + br" if bias == "row" else "")
            if epilogue == "conv":
                emit(2, f"if ov{j}:")
                op = "+=" if accumulate else "="
                emit(3, f"C[ob{j} + r * PQ] {op} {val}")
            else:
                emit(2, f"c = n0 + {colx(j)}")
                emit(2, "if c < N:")
                if bias == "col":
                    val += " + bias[c]"
                target = "C[cuda.blockIdx.z, r, c]" if split else "C[r, c]"
                emit(3, f"{target} {'+=' if accumulate else '='} {val}")
    if persistent:
        if epilogue != "lstm" or not a3:
            raise ValueError("persistent kernels are the LSTM recurrence (a3, epilogue='lstm')")
        L[0] = L[0].replace(", step,", ",").replace(", aidx)", ")")
        z = L.index("    zero = DT(0)") + 1
        body = ["    " + line for line in L[z:]]
        L = L[:z] + ["    grid = cuda.cg.this_grid()", "    for step in range(T):", "        aidx = step"] + body
        L += ["        grid.sync()  # every block has written h_t before any reads it"]
    src = "\n".join(L) + "\n"
    if source_only:
        return src
    # U: loads index with unsigned integers (every index is checked in range first), which
    # spares numba's negative-index wraparound arithmetic on each load of the inner loop.
    ns = {"cuda": cuda, "DT": np.dtype(dtype).type, "math": math, "sig": _sigmoid, "U": numba.uint64}
    exec(compile(src, f"<dlbook.cuda gemm {cfg} a={a} b={b} epi={epilogue} bias={bias} acc={accumulate}>", "exec"), ns)
    fn = ns["gemm_kernel"]
    fn.__doc__ = src
    return cuda.jit(fastmath=np.dtype(dtype) == np.float32)(fn)


_CACHE = {}


def get_kernel(dtype, cfg, **kw):
    key = (np.dtype(dtype), tuple(cfg), tuple(sorted(kw.items())))
    k = _CACHE.get(key)
    if k is None:
        k = _CACHE[key] = make_gemm_kernel(dtype, cfg, **kw)
    return k


def pick_config(M, N, K=None, dtype=np.float32):
    """Tile shape for an (M, N) output: big tiles when they still give the GPU enough blocks.

    float64 always takes the 4x4-per-thread tiles: 64 double accumulators would not fit in
    registers (and float64 runs here for checks and gradient tests, not for speed).
    """
    if SIM:
        return SIM_CONFIG
    from ._util import sm_count

    if np.dtype(dtype) == np.float32 and ceil_div(M, DEFAULT[0]) * ceil_div(N, DEFAULT[1]) >= sm_count():
        return DEFAULT
    return SMALL


def grid2d(M, N, cfg):
    """The launch grid of a tiled product with an (M, N) output."""
    return (ceil_div(N, cfg[1]), ceil_div(M, cfg[0]))


def _dummy_bias(dtype):
    key = ("dummy", np.dtype(dtype))
    d = _CACHE.get(key)
    if d is None:
        d = _CACHE[key] = zeros((1,), dtype)
    return d


def _splits(M, N, K, cfg):
    """How many K slices give the GPU enough blocks (1: no split)."""
    if SIM:
        return 1
    from ._util import sm_count

    blocks = ceil_div(M, cfg[0]) * ceil_div(N, cfg[1])
    if blocks >= sm_count() or K < 32 * cfg[2]:
        return 1
    return int(max(1, min(ceil_div(2 * sm_count(), blocks), K // (16 * cfg[2]), 64)))


def gemm(A, B, C, M, N, K, a="n", b="n", bias=None, bias_mode="none", accumulate=False, cfg=None, split=None):
    """Launch the tiled kernel on device arrays: ``C (+)= op(A) @ op(B) (+ bias)``.

    split: number of K slices (None: automatic, for outputs too small to fill the GPU).
    """
    cfg = cfg or pick_config(M, N, K, C.dtype)
    if M == 0 or N == 0:
        return C
    S = _splits(M, N, K, cfg) if split is None else max(1, int(split))
    if S > 1 and bias_mode == "none":
        KS = ceil_div(ceil_div(K, S), cfg[2]) * cfg[2]
        S = ceil_div(K, KS)
        part = empty((S, M, N), C.dtype)
        kern = get_kernel(C.dtype, cfg, a=a, b=b, split=True)
        kern[(ceil_div(N, cfg[1]), ceil_div(M, cfg[0]), S), cfg.threads](A, B, part, _dummy_bias(C.dtype), M, N, K, KS)
        _sum_splits[grid1d(M * N)](part, C, accumulate)
        return C
    kern = get_kernel(C.dtype, cfg, a=a, b=b, bias=bias_mode, accumulate=accumulate)
    grid = (ceil_div(N, cfg[1]), ceil_div(M, cfg[0]))
    kern[grid, cfg.threads](A, B, C, bias if bias is not None else _dummy_bias(C.dtype), M, N, K)
    return C


def matmul(a, b, *, trans_a=False, trans_b=False, out=None, cfg=None):
    """GPU matrix product ``op(a) @ op(b)``; ``op`` transposes when ``trans_*`` is set.

    a: (M, K) (or (K, M) with trans_a), b: (K, N) (or (N, K) with trans_b) -> (M, N).
    """
    a = dev(a, "a", "matmul", ndim=2)
    b = dev(b, "b", "matmul", dtype=a.dtype, ndim=2)
    M, K = tuple(a.shape)[::-1] if trans_a else tuple(a.shape)
    Kb, N = tuple(b.shape)[::-1] if trans_b else tuple(b.shape)
    if K != Kb:
        raise ValueError(f"matmul: inner dimensions differ: a gives K={K}, b gives K={Kb} (shapes {tuple(a.shape)}, {tuple(b.shape)})")
    if out is None:
        out = empty((M, N), a.dtype)
    return gemm(a, b, out, M, N, K, a="t" if trans_a else "n", b="t" if trans_b else "n", cfg=cfg)


@cuda.jit
def _sum_splits(part, C, accumulate):
    # C[r, c] (+)= sum_z part[z, r, c]
    S, M, N = part.shape
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < M * N:
        r = i // N
        c = i - r * N
        acc = part[0, r, c]
        for z in range(1, S):
            acc += part[z, r, c]
        if accumulate:
            C[r, c] += acc
        else:
            C[r, c] = acc
        i += stride


def _as_2d(x, fn):
    shape = tuple(x.shape)
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected x with shape (N, D) or (N, ...), got {shape}")
    return x.reshape(shape[0], int(np.prod(shape[1:]))) if x.ndim > 2 else x


def affine_forward(x, W, b):
    """GPU Affine: ``x (N, D) @ W (D, M) + b (M,)`` -> (N, M); x (N, ...) is flattened to (N, D).

    The bias is added in the product's epilogue (no second pass over the output).
    """
    x = dev(x, "x", "affine_forward")
    W = dev(W, "W", "affine_forward", dtype=x.dtype, ndim=2)
    b = dev(b, "b", "affine_forward", dtype=x.dtype, ndim=1)
    x2 = _as_2d(x, "affine_forward")
    N, D = tuple(x2.shape)
    if tuple(W.shape)[0] != D:
        raise ValueError(f"affine_forward: W must have shape ({D}, M) for x of shape {tuple(x.shape)}, got {tuple(W.shape)}")
    M = tuple(W.shape)[1]
    if tuple(b.shape) != (M,):
        raise ValueError(f"affine_forward: b must have shape ({M},), got {tuple(b.shape)}")
    out = empty((N, M), x.dtype)
    return gemm(x2, W, out, N, M, D, bias=b, bias_mode="col")


def sum_rows(a, out=None, accumulate=False):
    """Column sums of a 2-D device array: a (N, M) -> (M,) (the bias gradient of Affine)."""
    a = dev(a, "a", "sum_rows", ndim=2)
    N, M = tuple(a.shape)
    if out is None:
        out = empty((M,), a.dtype)
        accumulate = False
    if M:
        _colsum_kernel(a.dtype)[(ceil_div(M, 32),), (32, 8)](a, out, N, M, accumulate)
    return out


_COLSUM = {}


def _colsum_kernel(dtype):
    dtype = np.dtype(dtype)
    if dtype in _COLSUM:
        return _COLSUM[dtype]
    DT = dtype.type

    def body(a, out, N, M, accumulate):
        # 32 columns per block (coalesced rows), 8 row-walkers, summed in shared memory.
        buf = cuda.shared.array((8, 32), DT)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        c = cuda.blockIdx.x * 32 + tx
        acc = DT(0)
        if c < M:
            r = ty
            while r < N:
                acc += a[r, c]
                r += 8
        buf[ty, tx] = acc
        cuda.syncthreads()
        if ty == 0 and c < M:
            s = buf[0, tx]
            for k in range(1, 8):
                s += buf[k, tx]
            if accumulate:
                out[c] += s
            else:
                out[c] = s

    _COLSUM[dtype] = cuda.jit(body)
    return _COLSUM[dtype]


def affine_backward(dout, x, W):
    """GPU Affine backward. dout: (N, M), x: (N, ...) as in forward, W: (D, M).

    Returns ``dx`` (x's shape) ``= dout @ W.T``, ``dW (D, M) = x.T @ dout``, ``db (M,)``.
    """
    dout = dev(dout, "dout", "affine_backward", ndim=2)
    x = dev(x, "x", "affine_backward", dtype=dout.dtype)
    W = dev(W, "W", "affine_backward", dtype=dout.dtype, ndim=2)
    x2 = _as_2d(x, "affine_backward")
    N, D = tuple(x2.shape)
    M = tuple(W.shape)[1]
    if tuple(W.shape) != (D, M) or tuple(dout.shape) != (N, M):
        raise ValueError(
            f"affine_backward: expected dout ({N}, {M}) and W ({D}, {M}) for x {tuple(x.shape)}, "
            f"got dout {tuple(dout.shape)} and W {tuple(W.shape)}"
        )
    dx = empty((N, D), x.dtype)
    gemm(dout, W, dx, N, D, M, b="t")  # (N, M) @ (M, D), W stored (D, M)
    dW = empty((D, M), x.dtype)
    gemm(x2, dout, dW, D, M, N, a="t")  # (D, N) @ (N, M), x stored (N, D)
    db = sum_rows(dout)
    return dx.reshape(*tuple(x.shape)), dW, db
