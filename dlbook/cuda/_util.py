"""Helpers shared by the kernel modules: operand conversion, checks, launch sizes."""

import numpy as np

from . import _as_numba, _cuda, simulator_enabled

cuda = _cuda()
SIM = simulator_enabled()
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

_SM = None


def sm_count():
    """Number of multiprocessors (4 under the simulator)."""
    global _SM
    if _SM is None:
        _SM = 4 if SIM else int(cuda.get_current_device().MULTIPROCESSOR_COUNT)
    return _SM


def dev(a, name, fn, dtype=None, ndim=None):
    """``a`` as a numba device array of a float dtype (and ``dtype``/``ndim`` if given).

    NumPy operands are copied to the device, so ``conv2d(x_gpu, w_numpy)`` works.
    """
    if a is None:
        return None
    d = _as_numba(a)
    if d.dtype not in FLOATS:
        raise ValueError(f"{fn}: {name} must be float32 or float64 on the GPU, got dtype {d.dtype}")
    if dtype is not None and d.dtype != dtype:
        raise ValueError(f"{fn}: {name} has dtype {d.dtype} but the other operands are {dtype}")
    if ndim is not None and d.ndim != ndim:
        raise ValueError(f"{fn}: expected {name} with {ndim} dimensions, got shape {tuple(d.shape)}")
    if not SIM and not d.is_c_contiguous():
        raise ValueError(f"{fn}: {name} must be C-contiguous on the GPU (got strides {d.strides})")
    return d


def empty(shape, dtype):
    return cuda.device_array(tuple(int(s) for s in shape), dtype=dtype)


def zeros(shape, dtype):
    out = empty(shape, dtype)
    fill(out.reshape(-1) if out.size else out, 0.0)
    return out


def flat(a):
    return a.reshape(a.size)


def ceil_div(a, b):
    return -(-a // b)


def grid1d(n, threads=256, per_sm=32):
    """``(blocks, threads)`` for a grid-stride kernel over ``n`` items.

    Enough blocks to fill the GPU (``per_sm`` per multiprocessor), never more than the work
    needs. Under the simulator every thread is a Python thread, so launches stay tiny there.
    """
    if SIM:
        return max(1, min(ceil_div(n, 32), 2)), 32
    return max(1, min(ceil_div(n, threads), sm_count() * per_sm)), threads


@cuda.jit
def _fill(out, value):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    n = out.size
    while i < n:
        out[i] = value
        i += stride


def fill(out_flat, value):
    n = out_flat.size
    if n == 0:
        return out_flat
    _fill[grid1d(n)](out_flat, out_flat.dtype.type(value))
    return out_flat
