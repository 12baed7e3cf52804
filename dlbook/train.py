"""The mini-batch training loop (小批量梯度下降) — book pages: docs/03-training/gradient-descent.md,
docs/labs/digits-mlp.ipynb.

:func:`fit` shuffles the training set every epoch, takes ``batch_size`` samples at a time,
runs ``model.gradient`` (forward, loss, backward) and ``optimizer.update``, and records a
:class:`History` for plots. A tqdm progress bar shows the epochs unless ``progress=False`` or the
environment sets ``DLBOOK_PROGRESS=0`` (the tests and the site build do); inside Jupyter the bar is
one output updated in place. While an epoch runs, numpy's BLAS uses ``blas_threads`` threads
(1 by default; ``None`` leaves it alone).
"""

import os
import time

import numpy as np

from ._parallel import limit_blas
from ._validate import check_positive_int
from .layers.core import SoftmaxWithLoss

__all__ = ["History", "fit", "train_epoch", "iterate_minibatches"]


class History(dict):
    """Per-epoch records of :func:`fit`: a dict of lists.

    ``history["loss"]`` mean training loss of each epoch's mini-batches; ``["train_acc"]``
    and ``["val_acc"]`` accuracies after each epoch (``val_acc`` and ``val_loss`` stay empty
    without validation data); ``["batch_loss"]`` the loss of every mini-batch;
    ``["time"]`` seconds per epoch.
    """

    KEYS = ("loss", "train_acc", "val_loss", "val_acc", "batch_loss", "time")

    def __init__(self):
        super().__init__({k: [] for k in self.KEYS})
        self.best_epoch = None  # set by early stopping: the epoch whose parameters were kept

    @property
    def epochs(self):
        return len(self["loss"])

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.items() if v and k not in ("batch_loss", "time")}
        return f"History(epochs={self.epochs}, last={last})"


class _NotebookLine:
    """A file-like target for tqdm inside a Jupyter kernel: one output, updated in place.

    Writing tqdm's ``\r``-separated states to stderr in a notebook leaves one output per state in
    the saved (and rendered) notebook. An IPython display handle is updated instead, so a live
    notebook shows the bar moving and an executed notebook keeps only its final state.
    """

    def __init__(self, display):
        self._handle = display({"text/plain": ""}, raw=True, display_id=True)
        self.encoding = "utf-8"

    def write(self, text):
        line = text.split("\r")[-1].strip("\n")
        if line.strip():
            self._handle.update({"text/plain": line.rstrip()}, raw=True)
        return len(text)

    def flush(self):
        pass


def _progress_file():
    """``_NotebookLine`` inside a Jupyter kernel, else None (tqdm's default: stderr)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return None
    return _NotebookLine(display)


def _progress_enabled(progress):
    if progress is not None:
        return bool(progress)
    return os.environ.get("DLBOOK_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off", "")


def iterate_minibatches(n, batch_size, rng=None):
    """Yield index arrays covering ``range(n)`` in chunks of ``batch_size`` (shuffled when ``rng`` is given)."""
    idx = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield idx[start:start + batch_size]


def _step(model, optimizer, xb, tb):
    """One mini-batch: forward, loss, backward, update. Returns the batch loss."""
    if hasattr(model, "gradient") and hasattr(model, "last_loss"):
        grads = model.gradient(xb, tb)  # Sequential: skips the unused input gradient
        loss = model.last_loss
    else:
        loss = model.loss(xb, tb)
        model.backward(1.0)
        grads = model.grads
    optimizer.update(model.params, grads)
    return float(loss)


def train_epoch(model, optimizer, x, t, batch_size, rng=None, *, blas_threads=1):
    """One pass over ``(x, t)`` in mini-batches (shuffled by ``rng`` if given); returns the batch losses.

    numpy's BLAS uses at most ``blas_threads`` threads meanwhile (None: leave it alone).
    Mini-batch GEMMs (batch 100 x 784 x 100) are too small to gain from a second BLAS thread, and
    on the 2-core machines OpenBLAS's spinning worker made an epoch 2-10x slower whenever another
    process was busy; one thread was as fast on an idle machine (benchmarks/bench_mlp.py).
    """
    with limit_blas(blas_threads):
        return [_step(model, optimizer, x[idx], t[idx]) for idx in iterate_minibatches(len(x), batch_size, rng)]


def _set_training(model, mode):
    """``model.train(mode)`` for a model that has modes (every Sequential); others run unchanged."""
    if callable(getattr(model, "train", None)):
        model.train(mode)


class _EarlyStopping:
    """Early stopping (早停): remember the parameters of the epoch with the lowest validation loss;
    stop after ``patience`` epochs without a better one; put the best parameters back at the end."""

    def __init__(self, patience):
        check_positive_int(patience, "patience")
        self.patience = patience
        self.best_loss, self.best_epoch, self.best_params, self.waited = np.inf, None, None, 0

    def should_stop(self, model, epoch, val_loss):
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.waited = val_loss, epoch, 0
            self.best_params = {k: np.array(v, copy=True) for k, v in model.params.items()}
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self, model):
        for k, p in model.params.items():
            p[...] = self.best_params[k]  # in place: the layers hold these arrays


def fit(model, optimizer, x, t, *, epochs, batch_size, x_val=None, t_val=None, seed=0, progress=None,
        patience=None):
    """Train ``model`` with mini-batch gradient descent; return a :class:`History`.

    x: (N, ...) inputs; t: (N,) labels or (N, C) one-hot/targets. ``batch_size = N`` is batch
    gradient descent (BGD), ``batch_size = 1`` stochastic gradient descent (SGD).
    Each epoch visits every sample once in an order drawn from ``numpy.random.default_rng(seed)``.
    Accuracies are recorded when the model has an ``accuracy`` method and a softmax loss.
    ``patience``: early stopping (needs validation data) — stop after that many epochs without a
    lower validation loss and restore the parameters of the best epoch (``history.best_epoch``,
    counted from 0).
    """
    check_positive_int(epochs, "epochs")
    x, t = np.asarray(x), np.asarray(t)
    if x_val is not None and t_val is not None:
        x_val, t_val = np.asarray(x_val), np.asarray(t_val)
    check_positive_int(batch_size, "batch_size")
    if len(x) != len(t):
        raise ValueError(f"fit: expected as many targets as inputs ({len(x)}), got {len(t)}")
    if len(x) == 0:
        raise ValueError("fit: expected at least one training sample, got 0")
    if (x_val is None) != (t_val is None):
        raise ValueError("fit: expected both x_val and t_val, or neither")
    if x_val is not None and len(x_val) != len(t_val):
        raise ValueError(f"fit: expected as many validation targets as inputs ({len(x_val)}), got {len(t_val)}")
    if patience is not None and x_val is None:
        raise ValueError("fit: early stopping (patience=...) needs validation data x_val and t_val")
    stopper = None if patience is None else _EarlyStopping(patience)
    rng = np.random.default_rng(seed)
    history = History()
    classify = hasattr(model, "accuracy") and isinstance(getattr(model, "loss_layer", None), SoftmaxWithLoss)

    bar = None
    epoch_iter = range(epochs)
    if _progress_enabled(progress):
        try:
            from tqdm import tqdm  # plain text bar: works in terminals and notebooks alike
        except ImportError:  # tqdm is optional (the `plot` extra)
            tqdm = None
        if tqdm is not None:
            bar = tqdm(epoch_iter, desc="epochs", unit="epoch", leave=True, file=_progress_file())
            epoch_iter = bar

    for epoch in epoch_iter:
        start = time.perf_counter()
        _set_training(model, True)
        batch_losses = train_epoch(model, optimizer, x, t, batch_size, rng)
        history["batch_loss"].extend(batch_losses)
        history["loss"].append(float(np.mean(batch_losses)))
        _set_training(model, False)
        if classify:
            history["train_acc"].append(model.accuracy(x, t, batch_size=1000))
        if x_val is not None:
            history["val_loss"].append(float(model.loss(x_val, t_val)))
            if classify:
                history["val_acc"].append(model.accuracy(x_val, t_val, batch_size=1000))
        history["time"].append(time.perf_counter() - start)
        if bar is not None:
            post = {"loss": f"{history['loss'][-1]:.4f}"}
            if history["train_acc"]:
                post["train_acc"] = f"{history['train_acc'][-1]:.3f}"
            if history["val_acc"]:
                post["val_acc"] = f"{history['val_acc'][-1]:.3f}"
            bar.set_postfix(post)
        if stopper is not None and stopper.should_stop(model, epoch, history["val_loss"][-1]):
            break
    if stopper is not None:
        stopper.restore(model)
        history.best_epoch = stopper.best_epoch
    _set_training(model, True)
    return history
