"""Recurrent networks (循环神经网络): RNN and LSTM, forward and backpropagation through time.

Book pages: docs/04-cnn-rnn/rnn.md (the RNN cell, BPTT, vanishing gradients) and
docs/04-cnn-rnn/lstm.md (cell state, gates, the LSTM's backward pass); lab:
docs/labs/rnn-vs-lstm.ipynb; how the fast path works: docs/appendix/lstm.md.

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
3. ``rnn_forward`` / ``lstm_forward`` and their backward passes -- check the arguments, then run
   the fast version (speed machinery in ``dlbook/rnn/_fast.py``, which says how it is fast).
   tests/test_rnn.py checks that 2 and 3 agree on random sizes, and both against
   ``torch.nn.RNN`` / ``torch.nn.LSTM`` and float64 numerical gradients.

The returned ``h`` and ``c`` are read-only views into the cache (copy them to modify).
The functions are safe to call from several threads.
"""

import numpy as np

from .._dispatch import dispatch
from .._validate import as_float_array, check_ndim
from . import _fast
from ._checks import check_dh, check_recurrent, common
from ._fast import LSTMCache, RNNCache

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


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` written as ``(1 + tanh(x / 2)) / 2``.

    x: any shape -> same shape and dtype. The tanh form is exact in real arithmetic and
    never overflows; it is also the form the fast LSTM uses for its three sigmoid gates.
    """
    x = as_float_array(x)
    return 0.5 * np.tanh(0.5 * x) + 0.5


# --------------------------------------------------------------------------- RNN
def rnn_step(x_t, h_prev, Wx, Wh, b):
    """One step of a vanilla RNN: ``h_t = tanh(x_t @ Wx + h_prev @ Wh + b)``.

    x_t: (N, D), h_prev: (N, H), Wx: (D, H), Wh: (H, H), b: (H,) -> h_t: (N, H).
    """
    x_t, h_prev, Wx, Wh, b = common([x_t, h_prev, Wx, Wh, b], ["x_t", "h_prev", "Wx", "Wh", "b"])
    check_ndim(x_t, 2, "rnn_step: x_t", "(N, D)")
    check_ndim(h_prev, 2, "rnn_step: h_prev", "(N, H)")
    check_recurrent("rnn_step", x_t[:, None, :], h_prev, Wx, Wh, b, gates=1)
    return np.tanh(x_t @ Wx + h_prev @ Wh + b)


def rnn_forward_reference(x, h0, Wx, Wh, b):
    """Plain per-step loop, the readable twin of :func:`rnn_forward` (same arguments and result).

    x: (N, T, D), h0: (N, H), Wx: (D, H), Wh: (H, H), b: (H,) -> h: (N, T, H), cache.
    """
    x, h0, Wx, Wh, b, _, (N, T, D, H) = check_recurrent("rnn_forward_reference", x, h0, Wx, Wh, b, gates=1)
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
    dh = check_dh("rnn_backward_reference", dh, h.shape, h.dtype)
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


def rnn_forward(x, h0, Wx, Wh, b):
    """Vanilla RNN over a whole sequence: ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``.

    x: (N, T, D), h0: (N, H), Wx: (D, H), Wh: (H, H), b: (H,)
    -> h: (N, T, H) (a read-only view), cache for :func:`rnn_backward`.
    """
    x, h0, Wx, Wh, b, _, _ = check_recurrent("rnn_forward", x, h0, Wx, Wh, b, gates=1)
    return _fast.rnn_forward(x, h0, Wx, Wh, b)


def rnn_backward(dh, cache):
    """Backpropagation through time for :func:`rnn_forward`.

    dh: (N, T, H), the upstream gradient at every step
    -> dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    if not isinstance(cache, RNNCache):
        raise TypeError(f"rnn_backward: expected the RNNCache returned by rnn_forward, got {type(cache).__name__}")
    N, T = cache.Z.shape[2], cache.Z.shape[1] - 1
    dh = check_dh("rnn_backward", dh, (N, T, cache.Wh.shape[0]), cache.Z.dtype)
    return _fast.rnn_backward(dh, cache)


# --------------------------------------------------------------------------- LSTM
def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step, the course's equations in PyTorch's gate order i, f, g, o.

    x_t: (N, D), h_prev: (N, H), c_prev: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    -> h_t: (N, H), c_t: (N, H).
    """
    x_t, h_prev, c_prev, Wx, Wh, b = common(
        [x_t, h_prev, c_prev, Wx, Wh, b], ["x_t", "h_prev", "c_prev", "Wx", "Wh", "b"]
    )
    check_ndim(x_t, 2, "lstm_step: x_t", "(N, D)")
    check_ndim(h_prev, 2, "lstm_step: h_prev", "(N, H)")
    check_recurrent("lstm_step", x_t[:, None, :], h_prev, Wx, Wh, b, gates=4, c0=c_prev)
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
    x, h0, Wx, Wh, b, c0, (N, T, D, H) = check_recurrent(
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
    dh = check_dh("lstm_backward_reference", dh, h.shape, h.dtype)
    if dc is not None:
        dc = check_dh("lstm_backward_reference", dc, h.shape, h.dtype, name="dc")
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


@dispatch("lstm_forward")
def lstm_forward(x, h0, c0, Wx, Wh, b, *, exact_tanh=False):
    """LSTM over a whole sequence (gate order i, f, g, o, as ``torch.nn.LSTM``).

    x: (N, T, D), h0, c0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,)
    -> h: (N, T, H), c: (N, T, H) (read-only views), cache for :func:`lstm_backward`.
    In float32 the tanh is a rational approximation (max abs error 4.1e-7) unless
    ``exact_tanh=True``; float64 is always exact.
    """
    x, h0, Wx, Wh, b, c0, _ = check_recurrent("lstm_forward", x, h0, Wx, Wh, b, gates=4, c0=c0)
    return _fast.lstm_forward(x, h0, c0, Wx, Wh, b, exact=bool(exact_tanh) or x.dtype == np.float64)


@dispatch("lstm_backward")
def lstm_backward(dh, cache, dc=None):
    """Backpropagation through time for :func:`lstm_forward`.

    dh: (N, T, H), the upstream gradient at every step
    -> dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    dc: optional (N, T, H), the upstream gradient of the cell states ``c`` when a loss (or an
    encoder-decoder's decoder, through its ``c0``) reads them; ``None`` means zero.
    """
    if not isinstance(cache, LSTMCache):
        raise TypeError(f"lstm_backward: expected the LSTMCache returned by lstm_forward, got {type(cache).__name__}")
    T, H4, N = cache.G.shape
    dh = check_dh("lstm_backward", dh, (N, T, H4 // 4), cache.Z.dtype)
    if dc is not None:
        dc = check_dh("lstm_backward", dc, (N, T, H4 // 4), cache.Z.dtype, name="dc")
    return _fast.lstm_backward(dh, cache, dc)
