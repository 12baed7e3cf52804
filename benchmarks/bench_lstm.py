"""LSTM and RNN forward + backward through time: dlbook vs plain NumPy vs PyTorch CPU.

Workload (the issue's): a batch of N=32 sequences, T=50 steps, D=64 inputs, H=128 hidden units,
float32 end to end. "forward + backward" is the whole sequence forward, then backpropagation
through time with an upstream gradient at every step (torch: ``nn.LSTM`` forward, then autograd
``backward``). Target: dlbook <= 1.2x torch for the LSTM. ``python3 -m benchmarks lstm``.

- dlbook: :func:`dlbook.rnn.lstm_forward` / :func:`dlbook.rnn.lstm_backward` (one GEMM per step
  over [Wx; b; Wh] and [x_t; 1; h_{t-1}], feature-major state, the gates and cell update in one
  jitted loop per step, one GEMM each for dWx+db+dWh and dx; docs/appendix/lstm.md);
- numpy: the textbook batch-first loop (Deep Learning from Scratch's TimeLSTM): per step
  ``x_t @ Wx + h @ Wh + b``, four slices, sigmoid as ``1 / (1 + exp(-a))``, per-step weight
  gradients, fresh temporaries;
- torch: ``torch.nn.LSTM(batch_first=True)`` / ``torch.nn.RNN``, autograd backward.
"""

import numpy as np

from .harness import Case, torch_or_none


def _data(N, T, D, H, gates, seed=0):
    rng = np.random.default_rng(seed)
    G = gates * H
    k = 1 / np.sqrt(H)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    Wx = rng.uniform(-k, k, (D, G)).astype(np.float32)
    Wh = rng.uniform(-k, k, (H, G)).astype(np.float32)
    b = rng.uniform(-k, k, G).astype(np.float32)
    dh = rng.standard_normal((N, T, H)).astype(np.float32)
    return x, Wx, Wh, b, dh


def _numpy_lstm(x, Wx, Wh, b, dh):
    """Textbook NumPy LSTM, batch-first, step by step (the DLFS TimeLSTM pattern)."""
    N, T, D = x.shape
    H = Wh.shape[0]

    def run():
        h = np.zeros((N, H), np.float32)
        c = np.zeros((N, H), np.float32)
        caches = []
        for t in range(T):
            a = x[:, t] @ Wx + h @ Wh + b
            i = 1 / (1 + np.exp(-a[:, :H]))
            f = 1 / (1 + np.exp(-a[:, H:2 * H]))
            g = np.tanh(a[:, 2 * H:3 * H])
            o = 1 / (1 + np.exp(-a[:, 3 * H:]))
            c_prev, h_prev = c, h
            c = f * c_prev + i * g
            tc = np.tanh(c)
            h = o * tc
            caches.append((h_prev, c_prev, i, f, g, o, tc))
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
        dx = np.empty_like(x)
        dh_next = np.zeros((N, H), np.float32)
        dc_next = np.zeros((N, H), np.float32)
        for t in reversed(range(T)):
            h_prev, c_prev, i, f, g, o, tc = caches[t]
            d = dh[:, t] + dh_next
            dc = dc_next + d * o * (1 - tc ** 2)
            da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                            dc * i * (1 - g ** 2), d * tc * o * (1 - o)])
            dWx += x[:, t].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            dx[:, t] = da @ Wx.T
            dh_next = da @ Wh.T
            dc_next = dc * f
        return dx, dWx, dWh, db

    return run


def _torch_impl(kind, x, Wx, Wh, b, dh, forward_only=False):
    torch = torch_or_none()
    if torch is None:
        return None
    N, T, D = x.shape
    H = Wh.shape[0]
    net = (torch.nn.LSTM if kind == "lstm" else torch.nn.RNN)(D, H, batch_first=True)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(b))
        net.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_()
    dht = torch.from_numpy(dh)

    if forward_only:
        def run():
            with torch.no_grad():
                return net(xt)[0]
        return run

    def run():
        out, _ = net(xt)
        out.backward(dht)
        return out

    return run


def cases(tiny=False):
    from dlbook import rnn

    N, T, D, H = (4, 6, 5, 8) if tiny else (32, 50, 64, 128)
    size = f"T{T} N{N} D{D} H{H}"
    out = []

    x, Wx, Wh, b, dh = _data(N, T, D, H, gates=4)
    z = np.zeros((N, H), np.float32)

    def dl_lstm():
        h, c, cache = rnn.lstm_forward(x, z, z, Wx, Wh, b)
        return rnn.lstm_backward(dh, cache)

    impls = {"dlbook": dl_lstm, "numpy (textbook)": _numpy_lstm(x, Wx, Wh, b, dh)}
    t = _torch_impl("lstm", x, Wx, Wh, b, dh)
    if t is not None:
        impls["torch"] = t
    out.append(Case(f"LSTM fwd+bwd {size} f32", impls, baseline="torch" if t else "numpy (textbook)",
                    target=1.2 if t else None, repeat=20, warmup=3))

    impls = {"dlbook": lambda: rnn.lstm_forward(x, z, z, Wx, Wh, b)}
    t = _torch_impl("lstm", x, Wx, Wh, b, dh, forward_only=True)
    if t is not None:
        impls["torch (no_grad)"] = t
    out.append(Case(f"LSTM fwd {size} f32", impls, baseline="torch (no_grad)" if t else "dlbook",
                    repeat=20, warmup=3))

    xr, Wxr, Whr, br, dhr = _data(N, T, D, H, gates=1, seed=1)

    def dl_rnn():
        h, cache = rnn.rnn_forward(xr, z, Wxr, Whr, br)
        return rnn.rnn_backward(dhr, cache)

    impls = {"dlbook": dl_rnn}
    t = _torch_impl("rnn", xr, Wxr, Whr, br, dhr)
    if t is not None:
        impls["torch"] = t
    out.append(Case(f"RNN fwd+bwd {size} f32", impls, baseline="torch" if t else "dlbook",
                    repeat=20, warmup=3))
    return out
