"""How the CPU kernels use threads — speed machinery, no lesson here (appendix: docs/appendix/convolution.md).

Several thread pools live in one process: numba's workers, numpy's BLAS threads, and the Python
threads the GEMM convolution splits its samples over. On a 2-core machine an idle pool's spinning
threads slow whichever pool is working (measured up to 10x), so the rule is **one pool at a time**:

- :func:`run_parallel` runs a ``parallel=True`` numba kernel's serial twin when the work is small
  (waking workers costs more than the work, and the twin compiles much faster);
- :func:`limit_blas` pins numpy's BLAS to ``n`` threads inside a ``with`` block (threadpoolctl);
- :func:`split_samples` runs a task over sample ranges on a few Python threads, each calling
  serial numba code and single-threaded BLAS.

Nothing here changes results, only speed; there are no switches to flip: the thresholds are
keyword arguments with documented defaults.
"""

import contextlib
import functools
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["PARALLEL_MIN_WORK", "run_parallel", "limit_blas", "thread_count", "split_samples"]

# Below this many multiply-adds (or elements, for pooling) a kernel runs on one thread: waking
# and joining the worker threads costs more than the work, and on a busy 2-core machine a
# parallel region waits for its slowest (descheduled) thread.
PARALLEL_MIN_WORK = 1 << 20


def run_parallel(kernel, work, *args, min_work=PARALLEL_MIN_WORK):
    """Call a ``parallel=True`` numba kernel when ``work >= min_work``; smaller work runs the same
    function compiled without ``parallel`` (:func:`serial_twin`): no worker threads to wake, and
    a reader's first small call compiles less (the stride-1 convolution's kernel: 5.5 -> 3.6 s
    with a fresh numba cache). One thread runs the whole range in order, as the parallel kernel on
    one thread did, so the results are the same.
    """
    if work >= min_work:
        return kernel(*args)
    return serial_twin(kernel)(*args)


@functools.lru_cache(maxsize=None)
def serial_twin(kernel):
    """``kernel``'s Python function compiled by ``njit(cache=True)`` without ``parallel`` (prange
    runs as range). It gets a name of its own (``<name>_serial``): numba's disk cache keys its
    entries by the function's name and line, not by the compile options."""
    f = kernel.py_func
    twin = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__, f.__closure__)
    twin.__qualname__ = f.__qualname__ + "_serial"
    twin.__module__, twin.__doc__ = f.__module__, f.__doc__
    return numba.njit(cache=True)(twin)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:  # optional: threadpoolctl (a dependency, but results are the same without it)
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController()
    except Exception:  # pragma: no cover - missing, or unable to inspect this process
        return None


class _SharedBlasLimit:
    """BLAS pinned to one thread while any caller is inside, restored when the last one leaves.

    Several threads may run the GEMM convolution at once. If each set and restored the BLAS
    thread count on its own, one thread's restore would change OpenBLAS's thread count while
    another thread is inside a BLAS call, which OpenBLAS does not survive (wrong results were
    seen). So the calls share one limit, counted under a lock.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._limit = None

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                controller = _blas_controller()
                self._limit = controller.limit(limits=1, user_api="blas") if controller else None
            self._users += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._limit is not None:
                self._limit.restore_original_limits()
                self._limit = None
        return False


_ONE_BLAS_THREAD = _SharedBlasLimit()


def limit_blas(n):
    """A context in which numpy's BLAS uses at most ``n`` threads (None: leave BLAS alone).

    ``n = 1`` is shared by every thread that asks for it (see :class:`_SharedBlasLimit`).
    """
    if n is None:
        return contextlib.nullcontext()
    if n == 1:
        return _ONE_BLAS_THREAD
    controller = _blas_controller()
    return controller.limit(limits=n, user_api="blas") if controller else contextlib.nullcontext()


@functools.lru_cache(maxsize=1)
def _executor():
    """One process-wide pool of ``numba.config.NUMBA_NUM_THREADS - 1`` helper threads, made on
    first use (the calling thread always takes a share itself). Idle, it costs nothing."""
    return ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                              thread_name_prefix="dlbook-samples")


_EXECUTOR_LOCK = threading.Lock()


def thread_count(N, work, min_work=PARALLEL_MIN_WORK):
    """How many threads :func:`split_samples` should use for N samples and ``work`` multiply-adds."""
    return 1 if work < min_work else max(1, min(numba.get_num_threads(), N))


def split_samples(N, task, buffers):
    """Run ``task(n0, n1, buffer)`` over T = ``len(buffers)`` contiguous sample ranges covering
    ``range(N)``, one thread each (size T with :func:`thread_count`).

    The calling thread does the first share; BLAS is pinned to one thread meanwhile so that only
    one pool is busy.
    """
    T = len(buffers)
    if T == 1:
        task(0, N, buffers[0])
        return
    bounds = [(N * t // T, N * (t + 1) // T) for t in range(T)]
    with _EXECUTOR_LOCK:
        pool = _executor()
    with limit_blas(1):
        futures = [pool.submit(task, n0, n1, buffers[t]) for t, (n0, n1) in enumerate(bounds[1:], 1)]
        task(*bounds[0], buffers[0])
        for f in futures:
            f.result()
