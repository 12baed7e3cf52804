"""Elementwise GPU kernels: activations, their derivatives, softmax over rows.

Same contract as :mod:`dlbook.activations`: any shape in, same shape and dtype out.
Each kernel is memory bound (one read, one write per element), so it is written to move
bytes at copy speed: a grid-stride loop sized to a few blocks per multiprocessor, each
thread issuing four independent loads before it computes (several elements in flight per
thread), constants typed like the input so float32 never silently becomes float64
(``one`` is passed in the input's dtype), and ``fastmath`` (hardware ``exp``) for float32.
"""

import math

import numpy as np

from ._util import SIM, ceil_div, cuda, dev, empty, flat, sm_count

__all__ = ["sigmoid", "tanh", "relu", "step", "sigmoid_grad", "tanh_grad", "relu_grad", "softmax"]


# ---- the scalar formulas (device functions), one per activation -----------------------------
@cuda.jit(device=True, inline=True)
def _sigmoid_d(x, one):
    # exp(-|x|) never overflows: 1 / (1 + z) for x >= 0, z / (1 + z) for x < 0 (the CPU's two
    # branches, written with one exp and a select, so a warp never runs both paths).
    z = math.exp(-abs(x))
    return (one if x >= 0 else z) / (one + z)


@cuda.jit(device=True, inline=True)
def _sigmoid_grad_d(x, one):
    s = _sigmoid_d(x, one)
    return s * (one - s)


@cuda.jit(device=True, inline=True)
def _tanh_d(x, one):
    return math.tanh(x)


@cuda.jit(device=True, inline=True)
def _tanh_grad_d(x, one):
    t = math.tanh(x)
    return one - t * t


@cuda.jit(device=True, inline=True)
def _relu_d(x, one):
    if x != x:  # NaN passes through, as on the CPU
        return x
    return x if x > 0 else one - one  # one - one: a zero of x's dtype


@cuda.jit(device=True, inline=True)
def _relu_grad_d(x, one):
    return one if x > 0 else one - one


@cuda.jit(device=True, inline=True)
def _step_d(x, one):
    return one if x >= 0 else one - one


def _make_unary(f):
    """A grid-stride kernel applying ``f`` to every element, 4 independent elements per iteration."""

    def body(x, out, one):
        n = x.size
        stride = cuda.gridsize(1)
        i = cuda.grid(1)
        while i + 3 * stride < n:
            a = x[i]
            b = x[i + stride]
            c = x[i + 2 * stride]
            d = x[i + 3 * stride]
            out[i] = f(a, one)
            out[i + stride] = f(b, one)
            out[i + 2 * stride] = f(c, one)
            out[i + 3 * stride] = f(d, one)
            i += 4 * stride
        while i < n:
            out[i] = f(x[i], one)
            i += stride

    return cuda.jit(fastmath=True)(body)


_KERNELS = {
    name: _make_unary(f)
    for name, f in {
        "sigmoid": _sigmoid_d,
        "sigmoid_grad": _sigmoid_grad_d,
        "tanh": _tanh_d,
        "tanh_grad": _tanh_grad_d,
        "relu": _relu_d,
        "relu_grad": _relu_grad_d,
        "step": _step_d,
    }.items()
}

THREADS = 256


def _launch_size(n):
    """Blocks for ``n`` elements: enough to fill the GPU, each thread doing >= 4 elements."""
    if SIM:
        return 1, 64
    return max(1, min(ceil_div(n, THREADS * 4), sm_count() * 32)), THREADS


def _unary(name, x, out=None):
    x = dev(x, "x", name)
    if out is None:
        out = empty(x.shape, x.dtype)
    elif tuple(out.shape) != tuple(x.shape) or out.dtype != x.dtype:
        raise ValueError(f"{name}: out must have shape {tuple(x.shape)} and dtype {x.dtype}, got {tuple(out.shape)} {out.dtype}")
    if x.size:
        xf, of = flat(x), flat(out)
        _KERNELS[name][_launch_size(x.size)](xf, of, x.dtype.type(1))
    return out


def sigmoid(x, out=None):
    """GPU sigmoid. x: any shape (device array) -> same shape and dtype; ``out=`` reuses a buffer."""
    return _unary("sigmoid", x, out)


def sigmoid_grad(x, out=None):
    """GPU derivative of sigmoid at x: ``s * (1 - s)``. x: any shape -> same shape and dtype."""
    return _unary("sigmoid_grad", x, out)


def tanh(x, out=None):
    """GPU tanh. x: any shape -> same shape and dtype."""
    return _unary("tanh", x, out)


def tanh_grad(x, out=None):
    """GPU derivative of tanh at x: ``1 - tanh(x)**2``. x: any shape -> same shape and dtype."""
    return _unary("tanh_grad", x, out)


def relu(x, out=None):
    """GPU ReLU. x: any shape -> same shape and dtype."""
    return _unary("relu", x, out)


def relu_grad(x, out=None):
    """GPU derivative of ReLU: 1 where x > 0, else 0. x: any shape -> same shape and dtype."""
    return _unary("relu_grad", x, out)


def step(x, out=None):
    """GPU step function: 1 where x >= 0, else 0. x: any shape -> same shape and dtype."""
    return _unary("step", x, out)


# ---- softmax over the last axis: one block per row, shared-memory reductions ----------------
SOFTMAX_THREADS = 128


def _make_softmax(dtype):
    nt = SOFTMAX_THREADS
    dt = np.dtype(dtype).type

    def body(x, out, cols):
        row = cuda.blockIdx.x
        t = cuda.threadIdx.x
        buf = cuda.shared.array(nt, dt)
        base = row * cols
        m = x[base]
        j = t
        while j < cols:
            v = x[base + j]
            if v > m:
                m = v
            j += nt
        buf[t] = m
        cuda.syncthreads()
        s = nt // 2
        while s > 0:
            if t < s and buf[t + s] > buf[t]:
                buf[t] = buf[t + s]
            cuda.syncthreads()
            s //= 2
        m = buf[0]
        cuda.syncthreads()
        acc = m - m
        j = t
        while j < cols:
            e = math.exp(x[base + j] - m)
            out[base + j] = e
            acc += e
            j += nt
        buf[t] = acc
        cuda.syncthreads()
        s = nt // 2
        while s > 0:
            if t < s:
                buf[t] += buf[t + s]
            cuda.syncthreads()
            s //= 2
        total = buf[0]
        j = t
        while j < cols:
            out[base + j] = out[base + j] / total
            j += nt

    return cuda.jit(fastmath=dtype == np.float32)(body)


_SOFTMAX = {}


def softmax(x, axis=-1, out=None):
    """GPU softmax along the last axis. x: (..., C) device array -> same shape and dtype.

    Each slice along the last axis sums to 1; the maximum is subtracted first, so any finite
    input works. Only the last axis is supported on the GPU.
    """
    x = dev(x, "x", "softmax")
    if x.ndim == 0:
        raise ValueError("softmax: expected an array with at least 1 dimension, got a scalar")
    if axis not in (-1, x.ndim - 1):
        raise ValueError(f"softmax: on the GPU only the last axis is supported (axis=-1), got axis={axis} for shape {tuple(x.shape)}")
    cols = tuple(x.shape)[-1]
    if cols == 0:
        raise ValueError(f"softmax: axis {axis} of an array of shape {tuple(x.shape)} is empty; nothing to normalise")
    if out is None:
        out = empty(x.shape, x.dtype)
    rows = x.size // cols if cols else 0
    if rows and cols:
        key = x.dtype
        if key not in _SOFTMAX:
            _SOFTMAX[key] = _make_softmax(x.dtype.type)
        _SOFTMAX[key][rows, SOFTMAX_THREADS](flat(x), flat(out), cols)
    return out


# ------------------------------------------------------------------ layer backward passes


@cuda.jit
def _relu_bwd(dout, x, out, one):
    # torch's rule, as on the CPU: 0 where x <= 0 (whatever dout is), dout elsewhere (NaN x too)
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.size:
        out[i] = 0 if x[i] <= 0 else dout[i]
        i += stride


@cuda.jit
def _sigmoid_bwd(dout, y, out, one):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.size:
        out[i] = dout[i] * y[i] * (one - y[i])
        i += stride


@cuda.jit
def _tanh_bwd(dout, y, out, one):  # one: 1 in the arrays' dtype, so float32 stays float32
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.size:
        out[i] = dout[i] * (one - y[i] * y[i])
        i += stride


def _binary(kernel, name, dout, saved):
    saved = dev(saved, "the forward's array", name)
    dout = dev(dout, "dout", name, dtype=saved.dtype)
    if tuple(dout.shape) != tuple(saved.shape):
        raise ValueError(f"{name}: expected dout of shape {tuple(saved.shape)}, got {tuple(dout.shape)}")
    out = empty(saved.shape, saved.dtype)
    if out.size:
        kernel[_launch_size(out.size)](flat(dout), flat(saved), flat(out), saved.dtype.type(1))
    return out


def relu_backward(dout, x):
    """GPU twin of :func:`dlbook.layers.core.relu_backward`: ``dout * [x > 0]`` (0 where ``x <= 0``)."""
    return _binary(_relu_bwd, "relu_backward", dout, x)


def sigmoid_backward(dout, y):
    """GPU twin of :func:`dlbook.layers.core.sigmoid_backward`: ``dout * y * (1 - y)``."""
    return _binary(_sigmoid_bwd, "sigmoid_backward", dout, y)


def tanh_backward(dout, y):
    """GPU twin of :func:`dlbook.layers.core.tanh_backward`: ``dout * (1 - y**2)``."""
    return _binary(_tanh_bwd, "tanh_backward", dout, y)
