"""The fast RNN and LSTM passes — speed machinery (appendix: docs/appendix/lstm.md) behind :func:`dlbook.rnn.rnn_forward` and friends.

The readable versions are the ``*_reference`` functions in :mod:`dlbook.rnn` (tests/test_rnn.py
checks they agree, and both against torch.nn.RNN/LSTM and numerical gradients). How this one is
fast (LSTM, T=50, N=32, D=64, H=128: see benchmarks/bench_lstm.py):

- RNN: the input projection ``x_t @ Wx`` of every step is ONE matrix product, hoisted out of
  the time loop; only ``h_{t-1} @ Wh`` is left inside it (BLAS, one call per step).
  LSTM: one product per step, ``[Wx; b; Wh].T @ [x_t; 1; h_{t-1}]``, gives the whole
  pre-activation: the same arithmetic, but reading x_t there is cheaper than streaming a
  precomputed ``x @ Wx`` (4H rows for every step) back in from memory;
- the state is kept *feature-major*: ``h_t`` is stored transposed, ``(H, N)``, so the
  per-step product is ``W.T (4H, K) @ (K, N)``. On this machine OpenBLAS runs that
  shape about 1.5x faster than ``h_t (N, H) @ Wh`` (the tall weight is packed better);
- the sigmoid gates use ``sigmoid(a) = (1 + tanh(a / 2)) / 2``, with the halving folded into
  a copy of the weights (exact: multiplying by 0.5 only changes the exponent), so every
  nonlinearity is a tanh. This llvmlite has no SVML, so ``np.tanh`` inside a numba loop is a
  scalar call per element; in float32 the LSTM uses a rational approximation instead
  (:func:`_tanh_rational`, max abs error 4.1e-7) unless ``exact_tanh=True``, which vectorises,
  and then the gates, the cell update and h_t are ONE jitted loop per step (forward) and the
  backward step another. float64 always keeps the exact ``np.tanh`` (so gradient checks stay
  at 1e-7 and below);
- backward keeps only the recurrent part in the time loop; ``dWx`` and ``dWh`` come from
  ONE matrix product over all steps (inputs, a row of ones and previous states are stored
  stacked, ``[x_t; 1; h_{t-1}]``, so ``db`` comes out of the same product, as the bias rides
  on the ones row into the input projection), ``dx`` from one more;
- the backward step's jitted loop runs over whole (H*N)-element blocks, not rows of N: with
  N = 32 the per-row setup cost more than the arithmetic;
- temporaries that never leave a function live in per-thread workspaces; the arrays of a
  cache (which the caller keeps) are fresh each call.

The functions take arrays already checked by :mod:`dlbook.rnn._checks`; they are safe to call
from several threads (workspaces are per thread).
"""

import threading
from typing import NamedTuple

import numpy as np
from numba import njit

_local = threading.local()


def _workspace(name, shape, dtype):
    """A scratch array reused between calls (per thread): fresh multi-megabyte temporaries cost
    page faults on first touch. Only for temporaries that never leave the function that asks for them."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    arr = pool.get(name)
    if arr is None or arr.shape != tuple(shape) or arr.dtype != dtype:
        arr = pool[name] = np.empty(shape, dtype)
    return arr


class RNNCache(NamedTuple):
    """What :func:`rnn_backward` needs. ``Z`` holds ``[x_t; h_{t-1}]`` stacked, feature-major."""

    Z: np.ndarray    # (D + 1 + H, T + 1, N): Z[:D, t] = x[:, t].T, Z[D] = 1, Z[D + 1:, t] = h_{t-1}.T
    Wx: np.ndarray
    Wh: np.ndarray


def _stacked_inputs(x, h0, H, out=None):
    """Z (D + 1 + H, T + 1, N): the inputs x[:, t].T in Z[:D, t], a row of ones in Z[D] (the
    bias's input: it puts b into the input projection and db into the weight-gradient product
    for free), and h0.T in Z[D + 1:, 0]; the forward pass writes h_t.T into Z[D + 1:, t + 1]."""
    N, T, D = x.shape
    Z = np.empty((D + 1 + H, T + 1, N), x.dtype) if out is None else out
    Z[:D, :T] = x.transpose(2, 1, 0)
    Z[:D, T] = 0
    Z[D] = 1
    Z[D + 1:, 0] = h0.T
    return Z


def _input_projection(Z, D, T, W, b, H):
    """All steps at once: ``[W; b].T @ [x_0 ... x_{T-1}; 1]`` as (G, T, N), one matrix product."""
    G = W.shape[1]
    N = Z.shape[2]
    Zf = Z.reshape(Z.shape[0], -1)
    Wb = np.concatenate([W, b[None, :]])         # (D + 1, G): the bias rides on the ones row
    P = np.matmul(Wb.T, Zf[:D + 1, : T * N], out=_workspace(f"P{G // H}", (G, T * N), Z.dtype))
    return P.reshape(G, T, N)


@njit(cache=True)
def _rnn_step_backward(dhT, dh_next, Z, dA, t):
    """Step t: dA[:, t] = (dhT[t] + dh_next) * (1 - h_t**2), with h_t = Z[E:, t + 1], E = D + 1.

    Whole C-contiguous arrays and the index t are passed (not strided views), so that every
    row below is a contiguous slice and the inner loop vectorises.
    """
    H = dh_next.shape[0]
    D = Z.shape[0] - H
    one = Z.dtype.type(1)
    for j in range(H):
        u = dhT[t, j]
        r = dh_next[j]
        hj = Z[D + j, t + 1]
        d = dA[j, t]
        for n in range(hj.shape[0]):
            d[n] = (u[n] + r[n]) * (one - hj[n] * hj[n])


def rnn_forward(x, h0, Wx, Wh, b):
    """:func:`dlbook.rnn.rnn_forward` for checked arrays of one dtype."""
    N, T, D = x.shape
    H = h0.shape[1]
    Z = _stacked_inputs(x, h0, H)
    P = _input_projection(Z, D, T, Wx, b, H)        # x_t @ Wx + b for every t, (H, T, N)
    WhT = np.ascontiguousarray(Wh.T)
    for t in range(T):
        h_t = Z[D + 1:, t + 1]                   # (H, N) slot of h_t
        np.matmul(WhT, Z[D + 1:, t], out=h_t)    # Wh.T @ h_{t-1}
        np.add(h_t, P[:, t], out=h_t)
        np.tanh(h_t, out=h_t)
    h = Z[D + 1:, 1:].transpose(2, 1, 0)
    h.flags.writeable = False
    return h, RNNCache(Z, Wx, Wh)


def rnn_backward(dh, cache):
    """:func:`dlbook.rnn.rnn_backward` for a checked dh (N, T, H) of the cache's dtype."""
    Z, Wx, Wh = cache
    D, H = Wx.shape
    N, T = dh.shape[:2]
    dhT = np.ascontiguousarray(dh.transpose(1, 2, 0))   # (T, H, N), feature-major like the state
    dA = _workspace("rnn_dA", (H, T, N), Z.dtype)
    dh_next = np.zeros((H, N), Z.dtype)
    for t in range(T - 1, -1, -1):
        _rnn_step_backward(dhT, dh_next, Z, dA, t)
        np.matmul(Wh, dA[:, t], out=dh_next)
    dx, dh0, dWx, db, dWh = _weight_grads(Z, dA, Wx, dh_next, T, N)
    return dx, dh0, dWx, dWh, db


def _weight_grads(Z, dA, Wx, dh0T, T, N):
    """The products over all steps: [dWx; db; dWh] = Z @ dA.T (one GEMM), dx = (Wx @ dA).T."""
    D = Wx.shape[0]
    G = dA.shape[0]
    dAf = dA.reshape(G, T * N)
    Zf = Z.reshape(Z.shape[0], -1)[:, : T * N]
    dW = np.matmul(Zf, dAf.T)                    # (D + 1 + H, G); the ones row gives db
    dx = np.matmul(Wx, dAf).reshape(D, T, N).transpose(2, 1, 0)
    return dx, dh0T.T, dW[:D], dW[D], dW[D + 1:]


class LSTMCache(NamedTuple):
    """What :func:`lstm_backward` needs; all time-indexed arrays are feature-major (…, N)."""

    Z: np.ndarray     # (D + 1 + H, T + 1, N): [x_t; 1; h_{t-1}] stacked, as in RNNCache
    G: np.ndarray     # (T, 4H, N): gate values i, f, g, o after their nonlinearity
    C: np.ndarray     # (T + 1, H, N): C[0] = c0.T, C[t + 1] = c_t.T (tanh(c_t) is recomputed)
    Wx: np.ndarray
    Wh: np.ndarray
    exact: bool       # np.tanh (True) or the rational float32 tanh (False), the same in backward


@njit(cache=True, inline="always", fastmath={"contract"}, error_model="numpy")
def _tanh_rational(x):
    """tanh(x) for float32 as Eigen's 13/6 rational function ``x P(x^2) / Q(x^2)`` on ``|x| <= 7.9``.

    Why: this llvmlite has no SVML, so ``np.tanh`` inside a numba loop is a scalar libm call per
    element, while a polynomial and one division vectorise. Measured over every float32 input:
    max abs error 4.1e-7 (2.9e-7 with fused multiply-adds), ``|tanh| <= 1`` everywhere; np.tanh
    itself is within about 6e-8. ``fastmath={"contract"}`` only allows fused multiply-adds;
    ``error_model="numpy"`` drops numba's zero-division check, which would block vectorisation.
    """
    c = np.float32(7.90531110763549805)          # beyond it tanh is 1 in float32
    xc = min(max(x, -c), c)
    x2 = xc * xc
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return x if abs(x) < np.float32(0.0004) else xc * p / q


@njit(cache=True, inline="always", fastmath={"contract"}, error_model="numpy")
def _tanh(x, exact):
    return np.tanh(x) if exact else _tanh_rational(x)


@njit(cache=True, fastmath={"contract"}, error_model="numpy")
def _lstm_cell_forward(G, C, Z, t, exact):
    """Step t after its matrix product, everything elementwise in one pass:

    G[t] holds the pre-activation a (halved on i, f, o); i, f, o = sigmoid = (1 + tanh(a/2)) / 2 and
    g = tanh(a) are written back into G[t]; c_t = f c_{t-1} + i g -> C[t + 1];
    h_t = o tanh(c_t) -> Z[D + 1:, t + 1], where the next step's product reads it.

    G: (T, 4H, N), C: (T + 1, H, N), Z: (D + 1 + H, T + 1, N), all C-contiguous. ``exact``:
    np.tanh (scalar calls), else :func:`_tanh_rational` (vectorised). Every value is computed
    before anything is stored: that order lets LLVM split the loop on the loop-invariant
    ``exact`` and vectorise the rational one (storing first made it 7x slower here).
    """
    H, N = C.shape[1], C.shape[2]
    E = Z.shape[0] - H
    half = G.dtype.type(0.5)
    for j in range(H):
        for n in range(N):
            i = half * _tanh(G[t, j, n], exact) + half
            f = half * _tanh(G[t, H + j, n], exact) + half
            g = _tanh(G[t, 2 * H + j, n], exact)
            o = half * _tanh(G[t, 3 * H + j, n], exact) + half
            c = f * C[t, j, n] + i * g
            tc = _tanh(c, exact)
            G[t, j, n] = i
            G[t, H + j, n] = f
            G[t, 2 * H + j, n] = g
            G[t, 3 * H + j, n] = o
            C[t + 1, j, n] = c
            Z[E + j, t + 1, n] = o * tc


@njit(cache=True, fastmath={"contract"}, error_model="numpy")
def _lstm_step_backward(dhT, dh_next, dc_next, G, C, da, dA, t, exact):
    """Step t of the LSTM backward pass, everything but the matrix products.

    The main loop runs over flat, C-contiguous (H*N)-element blocks, one long vectorisable run
    (with rows of only N = 32 the per-row setup would cost more than the arithmetic):

    dhT: (T, H*N) upstream gradient; dh_next, dc_next: (H*N,) recurrent gradients (dc_next is
    updated in place to dc_t * f); G: (T, 4H*N) gates i, f, g, o; C: (T + 1, H*N) cell states
    (C[t] = c_{t-1}, C[t + 1] = c_t); da: (4H*N,) out, the gradient at the gate pre-activations
    of step t, also copied into dA[:, t] (dA: (4H, T, N), kept for the weight gradients; this
    copy costs a fraction of NumPy's row-by-row strided one).
    tanh(c_t) is recomputed (``exact`` as in :func:`_lstm_cell_forward`): c_t was read by the
    step before (t + 1) and is still in cache, which is cheaper than storing it in the forward pass.
    """
    M = dh_next.shape[0]
    one = G.dtype.type(1)
    g_t = G[t]
    gi = g_t[0:M]
    gf = g_t[M:2 * M]
    gg = g_t[2 * M:3 * M]
    go = g_t[3 * M:4 * M]
    cp = C[t]
    cn = C[t + 1]
    u = dhT[t]
    dai = da[0:M]
    daf = da[M:2 * M]
    dag = da[2 * M:3 * M]
    dao = da[3 * M:4 * M]
    for k in range(M):
        i = gi[k]
        f = gf[k]
        g = gg[k]
        o = go[k]
        tc = _tanh(cn[k], exact)
        dh = u[k] + dh_next[k]
        dc = dc_next[k] + dh * o * (one - tc * tc)
        dai[k] = dc * g * i * (one - i)
        daf[k] = dc * cp[k] * f * (one - f)
        dag[k] = dc * i * (one - g * g)
        dao[k] = dh * tc * o * (one - o)
        dc_next[k] = dc * f
    N = dA.shape[2]
    for r in range(dA.shape[0]):
        row = dA[r, t]
        src = da[r * N:(r + 1) * N]
        for n in range(N):
            row[n] = src[n]


def _gate_scale(H, dtype):
    """0.5 on the sigmoid gates (i, f, o), 1 on g: sigmoid(a) = (1 + tanh(a/2)) / 2."""
    s = np.full(4 * H, 0.5, dtype)
    s[2 * H:3 * H] = 1
    return s


def lstm_forward(x, h0, c0, Wx, Wh, b, exact):
    """:func:`dlbook.rnn.lstm_forward` for checked arrays of one dtype; ``exact``: np.tanh throughout."""
    N, T, D = x.shape
    H = h0.shape[1]
    scale = _gate_scale(H, x.dtype)
    Z = _stacked_inputs(x, h0, H)
    G = np.empty((T, 4 * H, N), x.dtype)
    C = np.empty((T + 1, H, N), x.dtype)
    # [Wx; b; Wh].T, halved on i, f, o: one product per step gives the whole pre-activation
    # [x_t, 1, h_{t-1}] @ [Wx; b; Wh] (reading x_t there is cheaper than streaming a precomputed
    # x @ Wx for all steps back in from memory).
    WT = (np.concatenate([Wx, b[None, :], Wh]) * scale).T.copy()   # (4H, D + 1 + H)
    C[0] = c0.T
    for t in range(T):
        np.matmul(WT, Z[:, t], out=G[t])              # pre-activation of step t, (4H, N)
        _lstm_cell_forward(G, C, Z, t, exact)         # gates; c_t; h_t into Z[D + 1:, t + 1]
    h = Z[D + 1:, 1:].transpose(2, 1, 0)
    c = C[1:].transpose(2, 0, 1)
    h.flags.writeable = False
    c.flags.writeable = False
    return h, c, LSTMCache(Z, G, C, Wx, Wh, exact)


def lstm_backward(dh, cache, dc=None):
    """:func:`dlbook.rnn.lstm_backward` for checked dh and dc (N, T, H) of the cache's dtype."""
    Z, G, C, Wx, Wh, exact = cache
    T, H4, N = G.shape
    H = H4 // 4
    dhT = np.ascontiguousarray(dh.transpose(1, 2, 0))   # (T, H, N), feature-major like the state
    if dc is not None:
        dcT = dc.transpose(1, 2, 0)
    dA = _workspace("lstm_dA", (H4, T, N), Z.dtype)
    da = _workspace("lstm_da", (H4, N), Z.dtype)     # step t's block, contiguous
    dh_next = np.zeros((H, N), Z.dtype)
    dc_next = np.zeros((H, N), Z.dtype)
    flat = dict(dhT=dhT.reshape(T, -1), G=G.reshape(T, -1), C=C.reshape(T + 1, -1))
    dh_flat, dc_flat, da_flat = dh_next.reshape(-1), dc_next.reshape(-1), da.reshape(-1)
    for t in range(T - 1, -1, -1):
        if dc is not None:
            np.add(dc_next, dcT[t], out=dc_next)
        _lstm_step_backward(flat["dhT"], dh_flat, dc_flat, flat["G"], flat["C"], da_flat, dA, t, exact)
        np.matmul(Wh, da, out=dh_next)           # back into h_{t-1}
    dx, dh0, dWx, db, dWh = _weight_grads(Z, dA, Wx, dh_next, T, N)
    return dx, dh0, dc_next.T, dWx, dWh, db
