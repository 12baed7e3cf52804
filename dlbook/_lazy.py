"""Compile a numba ufunc for a dtype the first time it is called with it (speed machinery).

``@vectorize([...signatures])`` compiles every signature when the module is imported: the book's
activations cost 16 compilations before the first call. A :class:`LazyUfunc` compiles the one
signature a call needs, on that call (with ``cache=True``, later processes load it from disk).
"""

import threading

from numba import vectorize

__all__ = ["lazy_vectorize"]


class LazyUfunc:
    """``pyfunc`` as a ufunc, compiled per signature on first use. ``signature(*arrays)`` names
    the numba signature a call needs (e.g. ``"float32(float32)"``)."""

    def __init__(self, pyfunc, signature):
        self.pyfunc, self.signature = pyfunc, signature
        self.__name__, self.__doc__ = pyfunc.__name__, pyfunc.__doc__
        self._compiled = {}
        self._lock = threading.Lock()

    def __call__(self, *args):
        sig = self.signature(*args)
        ufunc = self._compiled.get(sig)
        if ufunc is None:
            with self._lock:  # two threads asking at once compile once
                ufunc = self._compiled.get(sig)
                if ufunc is None:
                    ufunc = self._compiled[sig] = vectorize([sig], cache=True)(self.pyfunc)
        return ufunc(*args)


def same_dtype_signature(x):
    """``"float32(float32)"`` or ``"float64(float64)"``: the output keeps the input's float dtype."""
    name = x.dtype.name
    return f"{name}({name})"


def lazy_vectorize(signature=same_dtype_signature):
    """Decorator: a :class:`LazyUfunc` (see the module docstring)."""
    return lambda pyfunc: LazyUfunc(pyfunc, signature)
