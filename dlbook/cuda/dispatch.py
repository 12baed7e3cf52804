"""Is an argument a GPU array? Cheap checks that never import ``numba.cuda``.

A *device array* is anything that exposes the CUDA Array Interface
(``__cuda_array_interface__``): numba device arrays, CuPy arrays, PyTorch CUDA
tensors. Under numba's simulator (``NUMBA_ENABLE_CUDASIM=1``) numba's fake device
arrays carry ``__cuda_ndarray__`` instead, and count too. Book page:
docs/reference/gpu.md.
"""

__all__ = ["is_device_array", "on_device"]


def is_device_array(a) -> bool:
    """True if ``a`` lives in GPU memory (or in the simulator's stand-in for it)."""
    if a is None or type(a).__module__ == "numpy":
        return False
    try:
        # torch CPU tensors define the attribute as a property that raises: hasattr -> False.
        return hasattr(a, "__cuda_array_interface__") or getattr(a, "__cuda_ndarray__", False) is True
    except Exception:  # pragma: no cover - an exotic object whose attribute access fails
        return False


def on_device(*arrays) -> bool:
    """True if any argument is a device array: the functional API then runs on the GPU."""
    for a in arrays:
        if is_device_array(a):
            return True
    return False
