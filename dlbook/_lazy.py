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
    the numba signature a call needs (e.g. ``"float32(float32)"``); arrays or numbers."""

    def __init__(self, pyfunc, signature):
        self.pyfunc, self.signature = pyfunc, signature
        self.__name__, self.__doc__ = pyfunc.__name__, pyfunc.__doc__
        self._compiled = {}      # argument dtypes -> compiled ufunc
        self._by_signature = {}  # signature -> compiled ufunc (dtypes that share one share it)
        self._lock = threading.Lock()

    def __call__(self, *args):
        # Keyed by the arguments' dtypes (or types, for Python numbers): cheap to hash; the
        # signature string is built only when a new kind arrives. This runs on every call.
        key = _kind(args[0]) if len(args) == 1 else tuple(map(_kind, args))
        ufunc = self._compiled.get(key)
        if ufunc is None:
            ufunc = self._compile(key, self.signature(*args))
        return ufunc(*args)

    def _compile(self, key, sig):
        with self._lock:  # two threads asking at once compile once
            if key not in self._compiled:
                ufunc = self._by_signature.get(sig)
                if ufunc is None:
                    # numba's DUFunc wraps a plain NumPy ufunc; calling that one directly skips
                    # a Python-level __call__ (the signature is fixed, nothing left to compile).
                    compiled = vectorize([sig], cache=True)(self.pyfunc)
                    ufunc = getattr(compiled, "ufunc", compiled)
                self._by_signature[sig] = ufunc
                self._compiled[key] = ufunc
            return self._compiled[key]


def _kind(a):
    """What a compiled loop depends on: an array's dtype, a Python number's type."""
    return a.dtype if hasattr(a, "dtype") else type(a)


def same_dtype_signature(x):
    """``"float32(float32)"`` or ``"float64(float64)"``: the output keeps the input's float dtype."""
    name = x.dtype.name
    return f"{name}({name})"


def lazy_vectorize(signature=same_dtype_signature):
    """Decorator: a :class:`LazyUfunc` (see the module docstring)."""
    return lambda pyfunc: LazyUfunc(pyfunc, signature)
