"""LSTM on the GPU, same contract as :func:`dlbook.rnn.lstm_forward` / :func:`dlbook.rnn.lstm_backward`.

Gate order i, f, g, o; batch-first ``x: (N, T, D)``. Per sequence:

- the input projection of every step is ONE tiled GEMM, hoisted out of the time loop:
  ``XW = x (N*T, D) @ Wx + b`` (the bias added in its epilogue);
- per step ONE kernel: the tiled GEMM ``h_{t-1} (N, H) @ Wh (H, 4H)`` whose epilogue adds the
  input part, applies the four gate nonlinearities, updates ``c_t = f c_{t-1} + i g`` and
  ``h_t = o tanh(c_t)``, and stores the gates for backward. For that the gate columns of
  ``Wx``, ``Wh``, ``b`` are interleaved (``4j + gate``) once per call, so each thread holds
  the i, f, g, o pre-activations of one hidden unit in registers;
- backward runs the per-step pointwise part as one fused kernel (``dA`` for all four gates and
  ``dc_{t-1}``), one GEMM per step for ``dh_{t-1} = dA_t @ Wh.T``, and the weight gradients as
  three big GEMMs after the loop.

Hidden and cell states are kept time-major, ``(T+1, N, H)``, so each step's operand is contiguous.
"""

import math

from . import gemm as _gemm
from ._util import SIM, cuda, dev, empty, grid1d, sm_count

__all__ = ["lstm_forward", "lstm_backward"]

# Small tiles for the per-step products (N x 4H outputs are few: keep many blocks busy). The
# fused step needs 4 adjacent output columns per thread (vec, TN a multiple of 4).
# On one H100 (2026-11-26, T50 N64 D256 H512) 16x64 tiles beat 32x64 and 64x64: 4.1 vs 5.2 vs 5.6 ms.
STEP_CONFIG = _gemm.GemmConfig(16, 64, 16, 2, 4, True, True)
SIM_STEP_CONFIG = _gemm.GemmConfig(8, 16, 4, 2, 4, True, True)


@cuda.jit
def _interleave(src, dst, H, inverse):
    # gate-blocked columns g*H + j  <->  interleaved columns 4*j + g, row by row
    R = src.shape[0]
    k = cuda.grid(1)
    stride = cuda.gridsize(1)
    while k < R * 4 * H:
        r = k // (4 * H)
        c = k - r * 4 * H
        g = c // H
        j = c - g * H
        if inverse:
            dst[r, c] = src[r, 4 * j + g]
        else:
            dst[r, 4 * j + g] = src[r, c]
        k += stride


def _interleaved(a, H, inverse=False):
    """(R, 4H) gate-blocked [i | f | g | o] <-> interleaved (i_j, f_j, g_j, o_j per unit j)."""
    out = empty(tuple(a.shape), a.dtype)
    _interleave[grid1d(a.size)](a, out, H, inverse)
    return out


@cuda.jit(fastmath=True)
def _lstm_step_bwd(dh, dcu, has_dc, t, dh_next, dc_next, G, Cs, dA_t, dA_all, one):
    # dh (and dcu if has_dc): (N, T, H) upstream; dh_next, dc_next: (N, H) from step t+1
    # (dc_next updated in place)
    N, H = dh_next.shape
    k = cuda.grid(1)
    stride = cuda.gridsize(1)
    while k < N * H:
        n = k // H
        j = k - n * H
        i_ = G[t, n, j]
        f_ = G[t, n, H + j]
        g_ = G[t, n, 2 * H + j]
        o_ = G[t, n, 3 * H + j]
        tc = math.tanh(Cs[t + 1, n, j])
        dht = dh[n, t, j] + dh_next[n, j]
        dc = dc_next[n, j] + dht * o_ * (one - tc * tc)
        if has_dc:
            dc += dcu[n, t, j]
        da_i = dc * g_ * i_ * (one - i_)
        da_f = dc * Cs[t, n, j] * f_ * (one - f_)
        da_g = dc * i_ * (one - g_ * g_)
        da_o = dht * tc * o_ * (one - o_)
        dA_t[n, j] = da_i
        dA_t[n, H + j] = da_f
        dA_t[n, 2 * H + j] = da_g
        dA_t[n, 3 * H + j] = da_o
        dA_all[n, t, j] = da_i
        dA_all[n, t, H + j] = da_f
        dA_all[n, t, 2 * H + j] = da_g
        dA_all[n, t, 3 * H + j] = da_o
        dc_next[n, j] = dc * f_
        k += stride


@cuda.jit
def _copy_prev_h(Hs, out):
    # out[n, t, :] = Hs[t, n, :] (h_{t-1} for every step, batch-first, for the weight gradient)
    T, N, H = out.shape[1], out.shape[0], out.shape[2]
    k = cuda.grid(1)
    stride = cuda.gridsize(1)
    while k < N * T * H:
        n = k // (T * H)
        r = k - n * T * H
        t = r // H
        j = r - t * H
        out[n, t, j] = Hs[t, n, j]
        k += stride


@cuda.jit
def _copy(src, dst):
    k = cuda.grid(1)
    stride = cuda.gridsize(1)
    while k < src.size:
        dst[k] = src[k]
        k += stride


PERSISTENT = True  # try the one-launch recurrence first (set False to always launch per step)
_PERSISTENT_FAILED = {}
LAST_PATH = None  # "persistent" or "per-step": which recurrence the last lstm_forward ran


def _recurrence_persistent(dt, cfg, grid, args):
    """Run all T steps in one cooperative launch (blocks meet at a grid barrier after each step).

    Only when the grid fits on the GPU at once (at most one block per multiprocessor); if the
    launch is refused (no cooperative launch, no device runtime to link), remember and return
    False: the caller launches once per step instead.
    """
    global LAST_PATH
    LAST_PATH = "per-step"
    # (numba's simulator runs blocks one after another, so there a grid barrier works for one block)
    if not PERSISTENT or _PERSISTENT_FAILED.get(dt) or grid[0] * grid[1] > (1 if SIM else sm_count()):
        return False
    try:
        kern = _gemm.get_kernel(dt, cfg, a3=True, epilogue="lstm", persistent=True)
        kern[grid, cfg.threads](*args)
    except Exception as exc:  # noqa: BLE001 - any launch failure falls back to per-step launches
        import warnings

        _PERSISTENT_FAILED[dt] = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"dlbook.cuda: one-launch LSTM recurrence unavailable ({exc}); launching once per step")
        return False
    LAST_PATH = "persistent"
    return True


class LSTMCacheGPU(tuple):
    """What :func:`lstm_backward` needs: (x, Wx, Wh, Hs, Cs, G), all device arrays."""


def lstm_forward(x, h0, c0, Wx, Wh, b, *, cfg=None):
    """GPU LSTM over a whole sequence (gate order i, f, g, o).

    x: (N, T, D), h0, c0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    -> h: (N, T, H), c: (N, T, H), cache for :func:`lstm_backward`.
    """
    x = dev(x, "x", "lstm_forward", ndim=3)
    dt = x.dtype
    h0 = dev(h0, "h0", "lstm_forward", dtype=dt, ndim=2)
    c0 = dev(c0, "c0", "lstm_forward", dtype=dt, ndim=2)
    Wx = dev(Wx, "Wx", "lstm_forward", dtype=dt, ndim=2)
    Wh = dev(Wh, "Wh", "lstm_forward", dtype=dt, ndim=2)
    b = dev(b, "b", "lstm_forward", dtype=dt, ndim=1)
    N, T, D = tuple(x.shape)
    H = tuple(h0.shape)[1]
    if (
        tuple(h0.shape) != (N, H) or tuple(c0.shape) != (N, H) or tuple(Wx.shape) != (D, 4 * H)
        or tuple(Wh.shape) != (H, 4 * H) or tuple(b.shape) != (4 * H,)
    ):
        raise ValueError(
            f"lstm_forward: expected h0, c0 ({N}, H), Wx ({D}, 4H), Wh (H, 4H), b (4H,) for x {(N, T, D)}; "
            f"got h0 {tuple(h0.shape)}, c0 {tuple(c0.shape)}, Wx {tuple(Wx.shape)}, Wh {tuple(Wh.shape)}, b {tuple(b.shape)}"
        )
    step_cfg = cfg or (SIM_STEP_CONFIG if SIM else STEP_CONFIG)
    Wx_i, Wh_i = _interleaved(Wx, H), _interleaved(Wh, H)
    b_i = _interleaved(b.reshape(1, 4 * H), H).reshape(4 * H)
    XW = empty((N * T, 4 * H), dt)
    _gemm.gemm(x.reshape(N * T, D), Wx_i, XW, N * T, 4 * H, D, bias=b_i, bias_mode="col")
    Hs = empty((T + 1, N, H), dt)
    Cs = empty((T + 1, N, H), dt)
    _copy[grid1d(N * H)](h0.reshape(N * H), Hs[0].reshape(N * H))
    _copy[grid1d(N * H)](c0.reshape(N * H), Cs[0].reshape(N * H))
    G = empty((T, N, 4 * H), dt)
    h_out = empty((N, T, H), dt)
    c_out = empty((N, T, H), dt)
    one = dt.type(1)
    nobias = _gemm._dummy_bias(dt)
    grid = _gemm.grid2d(N, 4 * H, step_cfg)
    if not _recurrence_persistent(dt, step_cfg, grid, (Hs, Wh_i, nobias, nobias, N, 4 * H, H, XW, T, Cs, Hs, G, h_out, c_out, one)):
        # One launch per step (the launcher built once, no array slicing in Python):
        # h_{t-1} @ Wh (A = Hs[t]), + XW, gates, c_t, h_t -> Cs[t+1], Hs[t+1], h_out, c_out, G[t]
        step = _gemm.get_kernel(dt, step_cfg, a3=True, epilogue="lstm")[grid, step_cfg.threads]
        for t in range(T):
            step(Hs, Wh_i, nobias, nobias, N, 4 * H, H, XW, t, T, Cs, Hs, G, h_out, c_out, one, t)
    # The backward pass works with gate-blocked columns [i | f | g | o]: reorder the gates once.
    G = _interleaved(G.reshape(T * N, 4 * H), H, inverse=True).reshape(T, N, 4 * H)
    return h_out, c_out, LSTMCacheGPU((x, Wx, Wh, Hs, Cs, G))


def lstm_backward(dh, cache, dc=None, *, cfg=None):
    """GPU backpropagation through time for :func:`lstm_forward`.

    dh: (N, T, H) -> dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    dc: optional (N, T, H), the upstream gradient of the cell states; None means zero.
    """
    x, Wx, Wh, Hs, Cs, G = cache
    dt = x.dtype
    N, T, D = tuple(x.shape)
    H = tuple(Wh.shape)[0]
    dh = dev(dh, "dh", "lstm_backward", dtype=dt, ndim=3)
    if tuple(dh.shape) != (N, T, H):
        raise ValueError(f"lstm_backward: dh must have shape {(N, T, H)} (the forward h's), got {tuple(dh.shape)}")
    if dc is not None:
        dc = dev(dc, "dc", "lstm_backward", dtype=dt, ndim=3)
        if tuple(dc.shape) != (N, T, H):
            raise ValueError(f"lstm_backward: dc must have shape {(N, T, H)} (the forward c's), got {tuple(dc.shape)}")
    step_cfg = cfg or (_gemm.SIM_CONFIG if SIM else STEP_CONFIG)
    from ._util import zeros

    dh_next = zeros((N, H), dt)
    dc_next = zeros((N, H), dt)
    dA_t = empty((N, 4 * H), dt)
    dA = empty((N, T, 4 * H), dt)
    one = dt.type(1)
    pointwise = _lstm_step_bwd[grid1d(N * H)]
    # dh_{t-1} = dA_t (N, 4H) @ Wh.T (Wh stored (H, 4H)); launcher built once
    recurrent = _gemm.get_kernel(dt, step_cfg, b="t")[_gemm.grid2d(N, H, step_cfg), step_cfg.threads]
    nobias = _gemm._dummy_bias(dt)
    for t in range(T - 1, -1, -1):
        pointwise(dh, dh if dc is None else dc, dc is not None, t, dh_next, dc_next, G, Cs, dA_t, dA, one)
        recurrent(dA_t, Wh, dh_next, nobias, N, H, 4 * H)
    dA2 = dA.reshape(N * T, 4 * H)
    dx = empty((N * T, D), dt)
    _gemm.gemm(dA2, Wx, dx, N * T, D, 4 * H, b="t")
    dWx = empty((D, 4 * H), dt)
    _gemm.gemm(x.reshape(N * T, D), dA2, dWx, D, 4 * H, N * T, a="t")
    Hprev = empty((N, T, H), dt)
    _copy_prev_h[grid1d(N * T * H)](Hs, Hprev)
    dWh = empty((H, 4 * H), dt)
    _gemm.gemm(Hprev.reshape(N * T, H), dA2, dWh, H, 4 * H, N * T, a="t")
    db = _gemm.sum_rows(dA2)
    return dx.reshape(N, T, D), dh_next, dc_next, dWx, dWh, db
