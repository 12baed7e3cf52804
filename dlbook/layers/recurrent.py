"""Recurrent layers — book pages: docs/04-cnn-rnn/rnn.md, docs/04-cnn-rnn/lstm.md,
docs/04-cnn-rnn/sequence-patterns.md; lab: docs/labs/rnn-vs-lstm.ipynb.

- :class:`RNN` — a vanilla recurrent layer, (N, T, D) -> (N, T, H), via :func:`dlbook.rnn.rnn_forward`;
- :class:`LSTM` — a long short-term memory layer, same shapes, via :func:`dlbook.rnn.lstm_forward`;
- :class:`LastStep` — the many-to-one head: keeps the last hidden state, (N, T, H) -> (N, H);
- :class:`TimeAffine` — the same ``x @ W + b`` at every step, (N, T, H) -> (N, T, M);
- :class:`TimeSoftmaxWithLoss` — softmax cross-entropy at every step, mean over N*T
  (the loss of a many-to-many tagger).

All are batch-first and follow :class:`dlbook.layers.base.Layer`. Parameters are kept by
reference, so an optimizer that updates them in place updates the layer. The recurrent layers
start from ``h0 = 0`` (and ``c0 = 0``) unless ``forward`` is given a start state or the layer
is ``stateful`` (then each call continues from where the previous one stopped; gradients do
not flow into the earlier call: truncated BPTT). After ``backward``, ``dh0`` (and ``dc0``)
hold the gradient with respect to the start state, which is how an encoder-decoder passes
gradients from the decoder back into the encoder.
"""

import numpy as np

from .. import init
from .._validate import as_float_array, as_input, check_ndim, check_positive_int
from ..rnn import lstm_backward, lstm_forward, rnn_backward, rnn_forward
from .base import Layer, check_dout
from .core import Affine, SoftmaxWithLoss

__all__ = ["RNN", "LSTM", "LastStep", "TimeAffine", "TimeSoftmaxWithLoss"]


def _init_dtype(dtype, name):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected dtype float32 or float64, got {dtype}")
    return dtype




class _Recurrent(Layer):
    gates = 1
    _name = "RNN"

    def __init__(self, Wx, Wh, b, *, stateful=False):
        super().__init__()
        Wx = as_float_array(Wx, "Wx")
        Wh = as_float_array(Wh, "Wh")
        b = as_float_array(b, "b")
        n = self._name
        gh = "H" if self.gates == 1 else "4H"
        if Wh.ndim != 2 or Wh.shape[1] != self.gates * Wh.shape[0]:
            raise ValueError(f"{n}: expected Wh of shape (H, {gh}), got {Wh.shape}")
        H = Wh.shape[0]
        if Wx.ndim != 2 or Wx.shape[1] != self.gates * H:
            raise ValueError(f"{n}: expected Wx of shape (D, {gh}) = (D, {self.gates * H}) to match Wh {Wh.shape}, got {Wx.shape}")
        if b.shape != (self.gates * H,):
            raise ValueError(f"{n}: expected b of shape ({gh},) = ({self.gates * H},) to match Wh {Wh.shape}, got {b.shape}")
        dtype = np.result_type(Wx, Wh, b)
        self.params = {k: v.astype(dtype, copy=False) for k, v in (("Wx", Wx), ("Wh", Wh), ("b", b))}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.stateful = bool(stateful)
        self.input_grad = True
        self.cache = None
        self.h = None          # last hidden state (N, H) after forward
        self.dh0 = None        # gradient w.r.t. the start state after backward

    @property
    def input_size(self):
        return self.params["Wx"].shape[0]

    @property
    def hidden_size(self):
        return self.params["Wh"].shape[0]

    def reset_state(self):
        """Forget the carried state: the next forward starts from zeros."""
        self.h = None

    @classmethod
    def random(cls, D, H, *, seed=0, dtype=np.float32, stateful=False, **kwargs):
        """A layer with Xavier-uniform weights (:func:`dlbook.init.xavier_uniform`) and ``b = 0``."""
        check_positive_int(D, f"{cls._name}.random: D")
        check_positive_int(H, f"{cls._name}.random: H")
        dtype = _init_dtype(dtype, f"{cls._name}.random")
        rng = np.random.default_rng(seed)
        G = cls.gates * H
        Wx = init.xavier_uniform((D, G), rng, dtype)
        Wh = init.xavier_uniform((H, G), rng, dtype)
        b = np.zeros(G, dtype)
        return cls(Wx, Wh, b, stateful=stateful, **kwargs)

    def _start(self, x, state, given, name):
        """The start state: given > carried (stateful) > zeros."""
        N = x.shape[0]
        H = self.hidden_size
        if given is not None:
            given = as_float_array(given, name)
            if given.shape != (N, H):
                raise ValueError(f"{self._name}.forward: expected {name} of shape (N, H) = {(N, H)} for x {x.shape}, got {given.shape}")
            return given.astype(x.dtype, copy=False)
        if self.stateful and state is not None and state.shape == (N, H):
            return state
        return np.zeros((N, H), x.dtype)

    def _input(self, x):
        x = as_float_array(x)
        check_ndim(x, 3, f"{self._name}.forward: x", "(N, T, D)")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{self._name}.forward: expected x of shape (N, T, {self.input_size}), got {x.shape}")
        return x.astype(self.params["Wx"].dtype, copy=False)

    def __repr__(self):
        return f"{self._name}(D={self.input_size}, H={self.hidden_size}, dtype={self.params['Wx'].dtype})"


class RNN(_Recurrent):
    """Vanilla recurrent layer: ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)``.

    Wx: (D, H), Wh: (H, H), b: (H,) (kept by reference).
    forward(x, h0=None): x (N, T, D) -> h (N, T, H); h0 (N, H) defaults to zeros (or the
    carried state when ``stateful``). backward(dh (N, T, H)) -> dx (N, T, D); fills
    ``grads["Wx"], ["Wh"], ["b"]`` and ``dh0``. ``RNN.random(D, H, seed=0)`` builds one.
    """

    gates = 1
    _name = "RNN"

    def forward(self, x, h0=None):
        x = self._input(x)
        h0 = self._start(x, self.h, h0, "h0")
        p = self.params
        h, self.cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        self.h = h[:, -1].copy()
        return h

    def backward(self, dout):
        if self.cache is None:
            raise ValueError("RNN.backward: call forward first")
        dx, self.dh0, dWx, dWh, db = rnn_backward(dout, self.cache)
        self.grads.update(Wx=dWx, Wh=dWh, b=db)
        return dx if self.input_grad else None


class LSTM(_Recurrent):
    """Long short-term memory layer (长短期记忆网络), gate order i, f, g, o (PyTorch's).

    Wx: (D, 4H), Wh: (H, 4H), b: (4H,) (kept by reference).
    forward(x, h0=None, c0=None): x (N, T, D) -> h (N, T, H); the cell states are in ``self.c_seq``.
    backward(dh (N, T, H), dc=None) -> dx (N, T, D); fills ``grads`` and ``dh0``, ``dc0``. ``dc``
    (N, T, H) is an optional gradient of the cell states (an encoder receives its decoder's ``dc0``
    at the last step).
    ``LSTM.random(D, H, seed=0, forget_bias=1.0)`` starts the forget gate open (bias 1), a common
    trick that lets gradients flow along the cell state from the first update on.
    """

    gates = 4
    _name = "LSTM"

    def __init__(self, Wx, Wh, b, *, stateful=False):
        super().__init__(Wx, Wh, b, stateful=stateful)
        self.c = None
        self.c_seq = None
        self.dc0 = None

    @classmethod
    def random(cls, D, H, *, seed=0, dtype=np.float32, stateful=False, forget_bias=1.0):
        layer = super().random(D, H, seed=seed, dtype=dtype, stateful=stateful)
        layer.params["b"][H:2 * H] = forget_bias
        return layer

    def reset_state(self):
        self.h = None
        self.c = None

    def forward(self, x, h0=None, c0=None):
        x = self._input(x)
        h0 = self._start(x, self.h, h0, "h0")
        c0 = self._start(x, self.c, c0, "c0")
        p = self.params
        h, c, self.cache = lstm_forward(x, h0, c0, p["Wx"], p["Wh"], p["b"])
        self.h = h[:, -1].copy()
        self.c = c[:, -1].copy()
        self.c_seq = c
        return h

    def backward(self, dout, dc=None):
        if self.cache is None:
            raise ValueError("LSTM.backward: call forward first")
        dx, self.dh0, self.dc0, dWx, dWh, db = lstm_backward(dout, self.cache, dc=dc)
        self.grads.update(Wx=dWx, Wh=dWh, b=db)
        return dx if self.input_grad else None


class LastStep(Layer):
    """Many-to-one head: keep only the last step, (N, T, H) -> (N, H).

    backward(dout (N, H)) -> dx (N, T, H), zero everywhere but the last step.
    """

    def __init__(self):
        super().__init__()
        self.shape = None
        self.dtype = None

    def forward(self, x):
        x = as_float_array(x)
        check_ndim(x, 3, "LastStep.forward: x", "(N, T, H)")
        if x.shape[1] == 0:
            raise ValueError(f"LastStep.forward: expected at least one step, got x of shape {x.shape}")
        self.shape, self.dtype = x.shape, x.dtype
        return np.ascontiguousarray(x[:, -1])

    def backward(self, dout):
        if self.shape is None:
            raise ValueError("LastStep.backward: call forward first")
        N, T, H = self.shape
        dout = check_dout(dout, (N, H), "LastStep")
        dx = np.zeros(self.shape, self.dtype)
        dx[:, -1] = dout
        return dx


class TimeAffine(Affine):
    """Time-distributed affine layer: the same ``x_t @ W + b`` at every step.

    W: (H, M), b: (M,) (kept by reference). forward: x (N, T, H) -> (N, T, M).
    backward(dout (N, T, M)) -> dx (N, T, H); ``grads["W"]`` sums ``x_t.T @ dout_t`` over
    every step and sample. The N*T steps are the rows of one :class:`~dlbook.layers.Affine`.
    """

    def __init__(self, W, b):
        super().__init__(W, b)
        self.time_shape = None

    @classmethod
    def random(cls, H, M, *, seed=0, dtype=np.float32):
        """Xavier-uniform weights (:func:`dlbook.init.xavier_uniform`), ``b = 0``."""
        check_positive_int(H, "TimeAffine.random: H")
        check_positive_int(M, "TimeAffine.random: M")
        dtype = _init_dtype(dtype, "TimeAffine.random")
        W = init.xavier_uniform((H, M), np.random.default_rng(seed), dtype)
        return cls(W, np.zeros(M, dtype))

    def forward(self, x):
        H = self.params["W"].shape[0]
        x = as_input(x, self.params["W"].dtype)
        check_ndim(x, 3, "TimeAffine.forward: x", "(N, T, H)")
        if x.shape[2] != H:
            raise ValueError(f"TimeAffine.forward: expected x of shape (N, T, {H}), got {x.shape}")
        self.time_shape = x.shape[:2]
        return super().forward(x.reshape(-1, H)).reshape(*self.time_shape, -1)

    def backward(self, dout):
        N, T = self.saved(self.time_shape)
        dout = check_dout(dout, (N, T, self.params["W"].shape[1]), "TimeAffine")
        dx = super().backward(dout.reshape(N * T, -1))
        return None if dx is None else dx.reshape(N, T, -1)

    def __repr__(self):
        return f"TimeAffine(W={self.params['W'].shape}, b={self.params['b'].shape})"


class TimeSoftmaxWithLoss(SoftmaxWithLoss):
    """Softmax cross-entropy at every step, averaged over all N*T steps (many-to-many loss).

    forward(x, t): x (N, T, C) logits; t integer labels (N, T) or one-hot (N, T, C) -> float.
    backward(dout=1.0) -> dx (N, T, C) ``= dout * (softmax(x) - t) / (N * T)``.
    The N*T steps are rows of one :class:`~dlbook.layers.SoftmaxWithLoss`, whose code it reuses.
    """

    logits_layout = "(N, T, C)"

    def _check_logits(self, x):
        if x.ndim != 3 or x.size == 0:
            raise ValueError(f"TimeSoftmaxWithLoss: expected x of shape (N, T, C), got {tuple(x.shape)}")
