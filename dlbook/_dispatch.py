"""The one seam between the lessons and the GPU: operation x array kind -> kernel.

A public function that has a GPU twin is decorated with ``@dispatch("name")``. Called with NumPy
arrays (or lists, numbers) it runs its own body: the CPU lesson a reader follows. Called with a
*device array* — anything with ``__cuda_array_interface__`` (numba device arrays, CuPy arrays,
PyTorch CUDA tensors), or numba's simulator arrays (``__cuda_ndarray__``) — it imports
:mod:`dlbook.cuda` the first time, which registers its kernels here with :func:`register`, and
runs the registered kernel instead. The teaching modules therefore never import ``dlbook.cuda``
and hold no device checks; importing dlbook never imports ``numba.cuda``.

The registry is filled once, when the CUDA backend loads; nothing else changes it.
"""

import functools
import importlib

import numpy as np

__all__ = ["dispatch", "register", "is_device_array", "on_device", "to_numpy"]

_KERNELS = {}  # operation name -> GPU kernel, filled by dlbook.cuda.kernels when it loads


def is_device_array(a) -> bool:
    """True if ``a`` lives in GPU memory (or in numba's simulator's stand-in for it)."""
    if a is None or type(a).__module__ == "numpy" or isinstance(a, (int, float, str, list, tuple)):
        return False
    try:
        # torch CPU tensors define the attribute as a property that raises: hasattr -> False.
        return hasattr(a, "__cuda_array_interface__") or getattr(a, "__cuda_ndarray__", False) is True
    except Exception:  # pragma: no cover - an exotic object whose attribute access fails
        return False


def on_device(*arrays) -> bool:
    """True if any argument is a device array."""
    # A plain loop with NumPy arrays waved through first: this runs on every layer call.
    for a in arrays:
        if type(a) is not np.ndarray and is_device_array(a):
            return True
    return False


def register(name):
    """Decorator for the CUDA backend: ``@register("conv2d")`` makes a kernel the GPU twin of ``name``."""

    def deco(kernel):
        _KERNELS[name] = kernel
        return kernel

    return deco


def gpu_kernel(name):
    """The GPU kernel registered for ``name``, loading the CUDA backend on first use."""
    if name not in _KERNELS:
        importlib.import_module("dlbook.cuda.kernels")  # registers every kernel it has
    try:
        return _KERNELS[name]
    except KeyError:
        raise TypeError(f"{name}: no GPU kernel; pass NumPy arrays to run it on the CPU") from None


def dispatch(name):
    """Decorator: device arrays among the arguments run ``name``'s GPU kernel, others the body."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if on_device(*args) or (kwargs and on_device(*kwargs.values())):
                return gpu_kernel(name)(*args, **kwargs)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def to_numpy(a):
    """``a`` as a NumPy array: device arrays are copied to the host, anything else ``np.asarray``."""
    if is_device_array(a):
        return importlib.import_module("dlbook.cuda").to_host(a)
    return np.asarray(a)
