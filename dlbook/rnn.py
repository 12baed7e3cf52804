"""Recurrent networks (循环神经网络): RNN and LSTM, forward and backpropagation through time.

Book pages: docs/04-cnn-rnn/rnn.md (the RNN cell, BPTT, vanishing gradients) and
docs/04-cnn-rnn/lstm.md (cell state, gates, the LSTM's backward pass); lab:
docs/labs/rnn-vs-lstm.ipynb.

Layout and conventions (batch-first, as ``torch.nn.LSTM(batch_first=True)``):

- ``x: (N, T, D)`` -- N sequences of T steps, D features per step;
- ``h0, c0: (N, H)`` -- initial hidden and cell state;
- RNN weights ``Wx: (D, H)``, ``Wh: (H, H)``, ``b: (H,)``;
- LSTM weights packed ``Wx: (D, 4H)``, ``Wh: (H, 4H)``, ``b: (4H,)`` with the gate blocks
  in PyTorch's order **i, f, g, o** (input gate, forget gate, candidate cell, output gate).
  PyTorch's ``weight_ih_l0`` is ``Wx.T``, ``weight_hh_l0`` is ``Wh.T`` and
  ``bias_ih_l0 + bias_hh_l0`` is ``b``.
- Outputs ``h, c: (N, T, H)``: the state after every step. Backward functions take the
  upstream gradient ``dh: (N, T, H)`` at every step (zeros where a step feeds no loss).

Every function accepts float32 and float64 and computes in the inputs' common dtype
(mixing the two gives float64). Bad shapes raise ``ValueError`` naming them.

Three implementations of each pass, from readable to fast:

1. ``rnn_step`` / ``lstm_step`` -- one time step, the course's equations line by line;
2. ``*_forward_reference`` / ``*_backward_reference`` -- a plain loop over time calling the
   step, batch-first, the version to read first;
3. ``rnn_forward`` / ``lstm_forward`` and their backward passes -- the fast version the
   layers use. tests/test_rnn.py checks that 2 and 3 agree on random sizes, and both
   against ``torch.nn.RNN`` / ``torch.nn.LSTM`` and float64 numerical gradients.

How the fast version is fast (LSTM, T=50, N=32, D=64, H=128: see benchmarks/bench_lstm.py):

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
  (:func:`_tanh_rational`, max abs error 4.1e-7), which vectorises, and then the gates, the
  cell update and h_t are ONE jitted loop per step (forward) and the backward step another.
  float64 keeps the exact ``np.tanh`` (so gradient checks stay at 1e-7 and below);
  ``RATIONAL_TANH_FLOAT32 = False`` does the same for float32;
- backward keeps only the recurrent part in the time loop; ``dWx`` and ``dWh`` come from
  ONE matrix product over all steps (inputs, a row of ones and previous states are stored
  stacked, ``[x_t; 1; h_{t-1}]``, so ``db`` comes out of the same product, as the bias rides
  on the ones row into the input projection), ``dx`` from one more;
- the backward step's jitted loop runs over whole (H*N)-element blocks, not rows of N: with
  N = 32 the per-row setup cost more than the arithmetic;
- no fresh multi-megabyte arrays per call: temporaries live in per-thread workspaces, and
  the arrays of a cache are recycled once nothing references them any more (a live cache,
  or a live ``h``/``c`` view of one, is never overwritten). Fresh arrays cost page faults
  on first touch, about 1 ms per forward + backward at the benchmark's size.

The returned ``h`` and ``c`` are read-only views into the cache (copy them to modify).
The functions are safe to call from several threads (workspaces are per thread).
"""

import sys
import threading
from typing import NamedTuple

import numpy as np
from numba import njit

from ._validate import as_float_array, check_ndim
from . import cuda as _cuda  # light: numba.cuda is imported only when a device array shows up
from .cuda.dispatch import on_device as _cuda_on_device

__all__ = [
    "rnn_step",
    "rnn_forward",
    "rnn_backward",
    "rnn_forward_reference",
    "rnn_backward_reference",
    "lstm_step",
    "lstm_forward",
    "lstm_backward",
    "lstm_forward_reference",
    "lstm_backward_reference",
    "sigmoid",
]


# --------------------------------------------------------------------------- workspaces
_local = threading.local()


def _workspace(name, shape, dtype):
    """A scratch array reused between calls (per thread): fresh multi-megabyte temporaries cost
    page faults on first touch (measured here: about 1 ms per LSTM forward + backward).
    Only for temporaries that never leave the function that asks for them."""
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    arr = pool.get(name)
    if arr is None or arr.shape != tuple(shape) or arr.dtype != dtype:
        arr = pool[name] = np.empty(shape, dtype)
    return arr


def _reusable_buffers(key, shapes, dtype, keep=3):
    """Arrays for a forward pass's cache, recycled once nobody holds them any more.

    A training loop drops the previous batch's cache (and the views of it, ``h`` and ``c``)
    before it needs the next one, so the same few megabytes can be reused instead of being
    page-faulted in afresh every call. A set is handed out again only when no array of it is
    referenced from anywhere but this pool (checked with ``sys.getrefcount``), so a cache or an
    output that is still alive is never overwritten. At most ``keep`` sets per shape are kept.
    """
    pool = getattr(_local, "caches", None)
    if pool is None:
        pool = _local.caches = {}
    sets = pool.setdefault((key, tuple(shapes), np.dtype(dtype)), [])
    for arrays in sets:
        # References: the pool's tuple, getrefcount's argument. Anything more is a live user.
        if all(sys.getrefcount(arrays[i]) == 2 for i in range(len(arrays))):
            return arrays
    arrays = tuple(np.empty(shape, dtype) for shape in shapes)
    if len(sets) < keep:
        sets.append(arrays)
    return arrays


# --------------------------------------------------------------------------- checks
def _common(arrays, names):
    """Cast to float arrays of one dtype (float32 unless any input is float64)."""
    arrs = [as_float_array(a, n) for a, n in zip(arrays, names)]
    dtype = np.result_type(*arrs)
    return [a.astype(dtype, copy=False) for a in arrs]


def _check_recurrent(fn, x, h0, Wx, Wh, b, gates, c0=None):
    """Validate shapes for an RNN (gates=1) or LSTM (gates=4); return arrays and sizes."""
    names = ["x", "h0", "Wx", "Wh", "b"] + (["c0"] if c0 is not None else [])
    arrays = [x, h0, Wx, Wh, b] + ([c0] if c0 is not None else [])
    arrays = _common(arrays, names)
    x, h0, Wx, Wh, b = arrays[:5]
    check_ndim(x, 3, f"{fn}: x", "(N, T, D)")
    check_ndim(h0, 2, f"{fn}: h0", "(N, H)")
    N, T, D = x.shape
    H = h0.shape[1]
    if min(N, T, D, H) < 1:
        raise ValueError(f"{fn}: every size must be >= 1, got x (N, T, D) = {x.shape} and h0 (N, H) = {h0.shape}")
    G = gates * H
    gate_txt = "H" if gates == 1 else "4H"
    if h0.shape[0] != N:
        raise ValueError(f"{fn}: h0 must be (N, H) = ({N}, H) to match x {x.shape}, got {h0.shape}")
    if Wx.shape != (D, G):
        raise ValueError(f"{fn}: Wx must be (D, {gate_txt}) = {(D, G)} for x {x.shape} and h0 {h0.shape}, got {Wx.shape}")
    if Wh.shape != (H, G):
        raise ValueError(f"{fn}: Wh must be (H, {gate_txt}) = {(H, G)} for h0 {h0.shape}, got {Wh.shape}")
    if b.shape != (G,):
        raise ValueError(f"{fn}: b must be ({gate_txt},) = {(G,)} for h0 {h0.shape}, got {b.shape}")
    if c0 is not None:
        c0 = arrays[5]
        if c0.shape != h0.shape:
            raise ValueError(f"{fn}: c0 must have the shape of h0, (N, H) = {h0.shape}, got {c0.shape}")
    return x, h0, Wx, Wh, b, c0, (N, T, D, H)


def _check_dh(fn, dh, shape, dtype, name="dh"):
    dh = as_float_array(dh, name)
    if dh.shape != tuple(shape):
        raise ValueError(f"{fn}: {name} must be (N, T, H) = {tuple(shape)}, the shape of the forward output, got {dh.shape}")
    return dh.astype(dtype, copy=False)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` written as ``(1 + tanh(x / 2)) / 2``.

    x: any shape -> same shape and dtype. The tanh form is exact in real arithmetic and
    never overflows; it is also the form the fast LSTM uses for its three sigmoid gates.
    """
    x = as_float_array(x)
    return 0.5 * np.tanh(0.5 * x) + 0.5


# --------------------------------------------------------------------------- RNN: readable
def rnn_step(x_t, h_prev, Wx, Wh, b):
    """One step of a vanilla RNN: ``h_t = tanh(x_t @ Wx + h_prev @ Wh + b)``.

    x_t: (N, D), h_prev: (N, H), Wx: (D, H), Wh: (H, H), b: (H,) -> h_t: (N, H).
    """
    x_t, h_prev, Wx, Wh, b = _common([x_t, h_prev, Wx, Wh, b], ["x_t", "h_prev", "Wx", "Wh", "b"])
    check_ndim(x_t, 2, "rnn_step: x_t", "(N, D)")
    check_ndim(h_prev, 2, "rnn_step: h_prev", "(N, H)")
    _check_recurrent("rnn_step", x_t[:, None, :], h_prev, Wx, Wh, b, gates=1)
    return np.tanh(x_t @ Wx + h_prev @ Wh + b)


def rnn_forward_reference(x, h0, Wx, Wh, b):
    """Plain per-step loop, the readable twin of :func:`rnn_forward` (same arguments and result).

    x: (N, T, D), h0: (N, H), Wx: (D, H), Wh: (H, H), b: (H,) -> h: (N, T, H), cache.
    """
    x, h0, Wx, Wh, b, _, (N, T, D, H) = _check_recurrent("rnn_forward_reference", x, h0, Wx, Wh, b, gates=1)
    h = np.empty((N, T, H), x.dtype)
    h_prev = h0
    for t in range(T):
        h_prev = h[:, t] = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
    return h, (x, h0, Wx, Wh, h)


def rnn_backward_reference(dh, cache):
    """Backpropagation through time, step by step, for :func:`rnn_forward_reference`.

    dh: (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, h0, Wx, Wh, h = cache
    dh = _check_dh("rnn_backward_reference", dh, h.shape, h.dtype)
    N, T, H = h.shape
    dx = np.empty_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, h.dtype)
    dh_next = np.zeros((N, H), h.dtype)       # gradient arriving from step t + 1
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)   # through tanh
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db


# --------------------------------------------------------------------------- RNN: fast
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
    """Vanilla RNN over a whole sequence: ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``.

    x: (N, T, D), h0: (N, H), Wx: (D, H), Wh: (H, H), b: (H,)
    -> h: (N, T, H) (a read-only view), cache for :func:`rnn_backward`.
    """
    x, h0, Wx, Wh, b, _, (N, T, D, H) = _check_recurrent("rnn_forward", x, h0, Wx, Wh, b, gates=1)
    (Z,) = _reusable_buffers("rnn", [(D + 1 + H, T + 1, N)], x.dtype)
    _stacked_inputs(x, h0, H, out=Z)
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
    """Backpropagation through time for :func:`rnn_forward`.

    dh: (N, T, H), the upstream gradient at every step
    -> dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    if not isinstance(cache, RNNCache):
        raise TypeError(f"rnn_backward: expected the RNNCache returned by rnn_forward, got {type(cache).__name__}")
    Z, Wx, Wh = cache
    D, H = Wx.shape
    _, T1, N = Z.shape
    T = T1 - 1
    dh = _check_dh("rnn_backward", dh, (N, T, H), Z.dtype)
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


# --------------------------------------------------------------------------- LSTM: readable
def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step, the course's equations in PyTorch's gate order i, f, g, o.

    x_t: (N, D), h_prev: (N, H), c_prev: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    -> h_t: (N, H), c_t: (N, H).
    """
    x_t, h_prev, c_prev, Wx, Wh, b = _common(
        [x_t, h_prev, c_prev, Wx, Wh, b], ["x_t", "h_prev", "c_prev", "Wx", "Wh", "b"]
    )
    check_ndim(x_t, 2, "lstm_step: x_t", "(N, D)")
    check_ndim(h_prev, 2, "lstm_step: h_prev", "(N, H)")
    _check_recurrent("lstm_step", x_t[:, None, :], h_prev, Wx, Wh, b, gates=4, c0=c_prev)
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b               # all four gates at once, (N, 4H)
    i = sigmoid(a[:, 0 * H:1 * H])               # input gate
    f = sigmoid(a[:, 1 * H:2 * H])               # forget gate
    g = np.tanh(a[:, 2 * H:3 * H])               # candidate cell state
    o = sigmoid(a[:, 3 * H:4 * H])               # output gate
    c_t = f * c_prev + i * g                     # cell state: keep some, add some
    h_t = o * np.tanh(c_t)                       # hidden state: show some
    return h_t, c_t


def lstm_forward_reference(x, h0, c0, Wx, Wh, b):
    """Plain per-step loop, the readable twin of :func:`lstm_forward` (same arguments and result).

    x: (N, T, D), h0, c0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    -> h: (N, T, H), c: (N, T, H), cache.
    """
    x, h0, Wx, Wh, b, c0, (N, T, D, H) = _check_recurrent(
        "lstm_forward_reference", x, h0, Wx, Wh, b, gates=4, c0=c0
    )
    h = np.empty((N, T, H), x.dtype)
    c = np.empty((N, T, H), x.dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        h_prev, c_prev = h[:, t], c[:, t] = lstm_step(x[:, t], h_prev, c_prev, Wx, Wh, b)
    return h, c, (x, h0, c0, Wx, Wh, b, h, c)


def lstm_backward_reference(dh, cache, dc=None):
    """Backpropagation through time, step by step, for :func:`lstm_forward_reference`.

    dh: (N, T, H) -> dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    dc: optional (N, T, H) upstream gradient of the cell states ``c`` (as in :func:`lstm_backward`).
    """
    x, h0, c0, Wx, Wh, b, h, c = cache
    dh = _check_dh("lstm_backward_reference", dh, h.shape, h.dtype)
    if dc is not None:
        dc = _check_dh("lstm_backward_reference", dc, h.shape, h.dtype, name="dc")
    N, T, H = h.shape
    dx = np.empty_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros((N, H), h.dtype)
    dc_next = np.zeros((N, H), h.dtype)
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0
        c_prev = c[:, t - 1] if t > 0 else c0
        # Recompute the gates of step t (the fast version stores them instead).
        a = x[:, t] @ Wx + h_prev @ Wh + b
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        tc = np.tanh(c[:, t])
        dh_t = dh[:, t] + dh_next                # from the loss at t and from step t + 1
        if dc is not None:
            dc_next = dc_next + dc[:, t]         # a loss that reads c_t directly
        dc_t = dc_next + dh_t * o * (1 - tc ** 2)  # h_t = o * tanh(c_t)
        da = np.concatenate([
            dc_t * g * i * (1 - i),              # c_t = f * c_prev + i * g
            dc_t * c_prev * f * (1 - f),
            dc_t * i * (1 - g ** 2),
            dh_t * tc * o * (1 - o),
        ], axis=1)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
        dc_next = dc_t * f
    return dx, dh_next, dc_next, dWx, dWh, db


# --------------------------------------------------------------------------- LSTM: fast
class LSTMCache(NamedTuple):
    """What :func:`lstm_backward` needs; all time-indexed arrays are feature-major (…, N)."""

    Z: np.ndarray     # (D + 1 + H, T + 1, N): [x_t; 1; h_{t-1}] stacked, as in RNNCache
    G: np.ndarray     # (T, 4H, N): gate values i, f, g, o after their nonlinearity
    C: np.ndarray     # (T + 1, H, N): C[0] = c0.T, C[t + 1] = c_t.T (tanh(c_t) is recomputed)
    Wx: np.ndarray
    Wh: np.ndarray


# Exact tanh in float64; in float32 a rational approximation (below) that numba can vectorise.
RATIONAL_TANH_FLOAT32 = True


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


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """LSTM over a whole sequence (gate order i, f, g, o, as ``torch.nn.LSTM``).

    x: (N, T, D), h0, c0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    -> h: (N, T, H), c: (N, T, H) (read-only views), cache for :func:`lstm_backward`.
    """
    if _cuda_on_device(x, h0, c0, Wx, Wh, b):  # GPU arrays: dlbook.cuda's kernels (docs/reference/gpu.md)
        return _cuda.lstm_forward(x, h0, c0, Wx, Wh, b)
    x, h0, Wx, Wh, b, c0, (N, T, D, H) = _check_recurrent("lstm_forward", x, h0, Wx, Wh, b, gates=4, c0=c0)
    scale = _gate_scale(H, x.dtype)
    Z, G, C = _reusable_buffers("lstm", [(D + 1 + H, T + 1, N), (T, 4 * H, N), (T + 1, H, N)], x.dtype)
    _stacked_inputs(x, h0, H, out=Z)
    # [Wx; b; Wh].T, halved on i, f, o: one product per step gives the whole pre-activation
    # [x_t, 1, h_{t-1}] @ [Wx; b; Wh] (reading x_t there is cheaper than streaming a precomputed
    # x @ Wx for all steps back in from memory).
    WT = (np.concatenate([Wx, b[None, :], Wh]) * scale).T.copy()   # (4H, D + 1 + H)
    C[0] = c0.T
    exact = not (RATIONAL_TANH_FLOAT32 and x.dtype == np.float32)
    for t in range(T):
        np.matmul(WT, Z[:, t], out=G[t])              # pre-activation of step t, (4H, N)
        _lstm_cell_forward(G, C, Z, t, exact)         # gates; c_t; h_t into Z[D + 1:, t + 1]
    h = Z[D + 1:, 1:].transpose(2, 1, 0)
    c = C[1:].transpose(2, 0, 1)
    h.flags.writeable = False
    c.flags.writeable = False
    return h, c, LSTMCache(Z, G, C, Wx, Wh)


def lstm_backward(dh, cache, dc=None):
    """Backpropagation through time for :func:`lstm_forward`.

    dh: (N, T, H), the upstream gradient at every step
    -> dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    dc: optional (N, T, H), the upstream gradient of the cell states ``c`` when a loss (or an
    encoder-decoder's decoder, through its ``c0``) reads them; ``None`` means zero.
    """
    if _cuda_on_device(dh, dc) or type(cache).__name__ == "LSTMCacheGPU":  # a GPU forward's cache
        return _cuda.lstm_backward(dh, cache, dc)
    if not isinstance(cache, LSTMCache):
        raise TypeError(f"lstm_backward: expected the LSTMCache returned by lstm_forward, got {type(cache).__name__}")
    Z, G, C, Wx, Wh = cache
    D = Wx.shape[0]
    T, H4, N = G.shape
    H = H4 // 4
    dh = _check_dh("lstm_backward", dh, (N, T, H), Z.dtype)
    dhT = np.ascontiguousarray(dh.transpose(1, 2, 0))   # (T, H, N), feature-major like the state
    if dc is not None:
        dcT = _check_dh("lstm_backward", dc, (N, T, H), Z.dtype, name="dc").transpose(1, 2, 0)
    dA = _workspace("lstm_dA", (H4, T, N), Z.dtype)
    da = _workspace("lstm_da", (H4, N), Z.dtype)     # step t's block, contiguous
    dh_next = np.zeros((H, N), Z.dtype)
    dc_next = np.zeros((H, N), Z.dtype)
    flat = dict(dhT=dhT.reshape(T, -1), G=G.reshape(T, -1), C=C.reshape(T + 1, -1))
    exact = not (RATIONAL_TANH_FLOAT32 and Z.dtype == np.float32)
    dh_flat, dc_flat, da_flat = dh_next.reshape(-1), dc_next.reshape(-1), da.reshape(-1)
    for t in range(T - 1, -1, -1):
        if dc is not None:
            np.add(dc_next, dcT[t], out=dc_next)
        _lstm_step_backward(flat["dhT"], dh_flat, dc_flat, flat["G"], flat["C"], da_flat, dA, t, exact)
        np.matmul(Wh, da, out=dh_next)           # back into h_{t-1}
    dx, dh0, dWx, db, dWh = _weight_grads(Z, dA, Wx, dh_next, T, N)
    return dx, dh0, dc_next.T, dWx, dWh, db
