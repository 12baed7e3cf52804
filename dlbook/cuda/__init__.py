"""GPU kernels (numba.cuda) behind the same functions as the CPU path — book page: docs/appendix/gpu.md.

Dispatch rule: NumPy in -> NumPy out on the CPU; device array in -> device array out on the GPU.
A *device array* is anything with ``__cuda_array_interface__`` (numba device arrays, CuPy
arrays, PyTorch CUDA tensors) or, under numba's simulator, ``__cuda_ndarray__``. The GPU
functions return numba device arrays.

Importing :mod:`dlbook` or this package never imports ``numba.cuda``: that happens only when
a device array reaches a dlbook function, or when :func:`to_device` is called. If CUDA cannot
be used then, one :class:`CudaUnavailableError` says why and what to install.

The kernels live in submodules (loaded on first use):

- ``elementwise``: sigmoid, tanh, relu, their gradients, step, softmax over rows
- ``gemm``: a register-tiled SGEMM/DGEMM generator, ``matmul``, ``affine_forward/backward``
- ``conv``: conv2d as an implicit GEMM, its backward (im2col + GEMM), max/avg pooling
- ``rnn``: LSTM forward/backward; each step is one kernel (recurrent GEMM + gates + cell update)
- ``losses``: softmax cross-entropy and its gradient (integer labels)
- ``model``: moving a whole model's parameters (``to_device(model)``) and :class:`SGD`
- ``kernels``: registers each kernel as the twin of its CPU function (:mod:`dlbook._dispatch`),
  so that the ordinary functions and layers run on the GPU when given device arrays
"""

import importlib
import os

import numpy as np

from .._dispatch import is_device_array, on_device

__all__ = [
    "CudaUnavailableError",
    "is_available",
    "simulator_enabled",
    "is_device_array",
    "on_device",
    "to_device",
    "to_host",
]


class CudaUnavailableError(RuntimeError):
    """A GPU code path was asked for, but CUDA cannot be used in this process."""


_INSTALL_HINT = (
    "Install numba-cuda with the CUDA libraries that match your driver "
    "(pip install 'numba-cuda[cu12]' or 'numba-cuda[cu13]') on a machine with an NVIDIA GPU, "
    "or pass NumPy arrays to run on the CPU. To try the GPU kernels without a GPU, set "
    "NUMBA_ENABLE_CUDASIM=1 before Python starts (numba's slow CPU simulator)."
)


def _ensure_numpy_row_stack(np_module=np):
    """Restore ``np.row_stack`` if this NumPy lacks it; return True if it had to.

    numba-cuda 0.30.4 registers ``overload(np.row_stack)`` when its CUDA target is first
    initialised (at the first kernel compile). NumPy 2.5 removed ``row_stack`` (deprecated
    since 2.0 as an alias of ``vstack``), so that first compile dies with
    ``AttributeError: module 'numpy' has no attribute 'row_stack'`` and no kernel runs.
    We restore the alias, only when it is missing, before numba.cuda is imported.
    Remove this once numba-cuda stops referring to ``np.row_stack``.
    """
    if hasattr(np_module, "row_stack"):
        return False
    np_module.row_stack = np_module.vstack
    return True


def simulator_enabled() -> bool:
    """True if numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1`` when numba was imported)."""
    try:
        import numba

        return bool(numba.config.ENABLE_CUDASIM)
    except Exception:  # pragma: no cover
        return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def is_available() -> bool:
    """True only if a real CUDA GPU can run dlbook's kernels (the simulator does not count).

    Never raises: no numba-cuda, no driver or no GPU all give False.
    """
    if simulator_enabled():
        return False
    try:
        _ensure_numpy_row_stack()
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


_CUDA = None


def _cuda():
    """``numba.cuda``, ready to compile kernels; raises :class:`CudaUnavailableError` otherwise."""
    global _CUDA
    if _CUDA is not None:
        return _CUDA
    _ensure_numpy_row_stack()
    try:
        from numba import cuda
    except Exception as exc:  # numba-cuda missing or broken
        raise CudaUnavailableError(
            f"dlbook.cuda: a GPU code path was asked for, but numba.cuda cannot be imported "
            f"({type(exc).__name__}: {exc}). {_INSTALL_HINT}"
        ) from exc
    if not simulator_enabled():
        try:
            ok = bool(cuda.is_available())
            reason = "" if ok else (getattr(cuda, "cuda_error", lambda: None)() or "no CUDA GPU or driver found")
        except Exception as exc:  # pragma: no cover - broken driver
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if not ok:
            reason = " ".join(str(reason).split())  # numba's message spans lines
            raise CudaUnavailableError(
                f"dlbook.cuda: a GPU code path was asked for, but CUDA is not usable here ({reason}). {_INSTALL_HINT}"
            )
    _CUDA = cuda
    return cuda


def _as_numba(a):
    """A numba device array viewing ``a`` (no copy for device arrays; NumPy arrays are copied over)."""
    cuda = _cuda()
    if is_device_array(a):
        if getattr(a, "__cuda_ndarray__", False) is True:  # the simulator's arrays
            return a
        from numba.cuda.cudadrv.devicearray import DeviceNDArrayBase

        if isinstance(a, DeviceNDArrayBase):
            return a
        return cuda.as_cuda_array(a)  # CuPy, torch, ...: a zero-copy view
    return cuda.to_device(np.ascontiguousarray(a))


def to_device(a):
    """Copy a NumPy array (or anything ``np.asarray`` accepts) to the GPU; device arrays pass through.

    Returns a numba device array. A :class:`dlbook.models.Sequential` is moved as a whole, in
    place, like PyTorch's ``model.to("cuda")``: its parameters become device arrays and the same
    model is returned; its layers then run on the GPU when given device arrays.
    Raises :class:`CudaUnavailableError` without a usable GPU.
    """
    if is_device_array(a):
        return _as_numba(a)
    _cuda()
    if hasattr(a, "layers") and hasattr(a, "loss_layer"):
        from .model import move_model

        return move_model(a, "device")
    return _as_numba(np.asarray(a))


def to_host(a):
    """Copy a device array back to a NumPy array; NumPy input is returned as an array unchanged.

    A model moved by :func:`to_device` gets its parameters back as NumPy arrays (in place).
    """
    if hasattr(a, "layers") and hasattr(a, "loss_layer"):
        from .model import move_model

        return move_model(a, "host")
    if not is_device_array(a):
        return np.asarray(a)
    return _as_numba(a).copy_to_host()


# Public GPU functions, each loaded from its submodule on first access.
_LAZY = {
    "elementwise": ("sigmoid", "tanh", "relu", "step", "sigmoid_grad", "tanh_grad", "relu_grad", "softmax",
                    "relu_backward", "sigmoid_backward", "tanh_backward"),
    "gemm": ("matmul", "affine_forward", "affine_backward", "sum_rows"),
    "conv": (
        "conv2d",
        "conv2d_backward",
        "max_pool2d",
        "max_pool2d_backward",
        "avg_pool2d",
        "avg_pool2d_backward",
    ),
    "rnn": ("lstm_forward", "lstm_backward"),
    "losses": ("log_softmax_xent", "softmax_xent_backward"),
    "model": ("SGD",),
}
_WHERE = {name: mod for mod, names in _LAZY.items() for name in names}


def __getattr__(name):
    mod = _WHERE.get(name)
    if mod is None:
        if name in _LAZY:
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _cuda()  # one clear error before any kernel module is imported
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
