"""MLP training epoch: dlbook vs plain NumPy (the DLFS-style reference) vs PyTorch CPU.

One epoch = 6000 samples of synthetic 784-pixel data, a 784-100-10 ReLU MLP, softmax
cross-entropy, batch 100, SGD (lr 0.1), float32 end to end. Every implementation runs the
same loop: shuffle, slice a batch, forward, loss, backward, update. Target: dlbook <= 0.6x torch.
``python3 -m benchmarks mlp``.

dlbook's ``train_epoch`` runs numpy's BLAS on one thread (``train_epoch(..., blas_threads=1)``): at these
sizes a second thread gained nothing on an idle 2-core machine and cost 2-10x on a busy one. The
"torch, 1 thread" row shows torch under the same rule; the ratio target is against plain "torch".
"""

import numpy as np

from .harness import Case, torch_or_none

N, D, H, C, BATCH, LR = 6000, 784, 100, 10, 100, 0.1


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, D), dtype=np.float32)
    t = rng.integers(0, C, n)
    return x, t


def _dlbook_epoch(n):
    from dlbook.models import MLP
    from dlbook.optim import SGD
    from dlbook.train import train_epoch

    x, t = _data(n)
    model = MLP([D, H, C], seed=0, dtype=np.float32)
    opt = SGD(LR)
    rng = np.random.default_rng(0)
    return lambda: train_epoch(model, opt, x, t, BATCH, rng)


def _numpy_epoch(n):
    """The textbook NumPy two-layer net (fresh temporaries, dx of the first layer computed)."""
    x, t = _data(n)
    rng = np.random.default_rng(0)
    W1 = (rng.standard_normal((D, H)) * np.sqrt(2 / D)).astype(np.float32)
    b1 = np.zeros(H, np.float32)
    W2 = (rng.standard_normal((H, C)) * np.sqrt(2 / H)).astype(np.float32)
    b2 = np.zeros(C, np.float32)

    def epoch():
        idx_all = rng.permutation(n)
        for s in range(0, n, BATCH):
            idx = idx_all[s:s + BATCH]
            xb, tb = x[idx], t[idx]
            a1 = xb @ W1 + b1
            h1 = np.maximum(a1, 0)
            a2 = h1 @ W2 + b2
            z = a2 - a2.max(axis=1, keepdims=True)
            e = np.exp(z)
            y = e / e.sum(axis=1, keepdims=True)
            m = len(xb)
            dy = y.copy()
            dy[np.arange(m), tb] -= 1
            dy /= m
            dW2 = h1.T @ dy
            db2 = dy.sum(0)
            dh = dy @ W2.T
            da = dh * (a1 > 0)
            dW1 = xb.T @ da
            db1 = da.sum(0)
            _ = da @ W1.T
            W1[...] -= LR * dW1
            b1[...] -= LR * db1
            W2[...] -= LR * dW2
            b2[...] -= LR * db2

    return epoch


def _torch_epoch(n, torch):
    x_np, t_np = _data(n)
    x = torch.from_numpy(x_np)
    t = torch.from_numpy(t_np)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)

    def epoch():
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), t[idx])
            loss.backward()
            opt.step()

    return epoch


def _one_thread(torch, epoch):
    """The same torch loop with torch limited to one thread (dlbook limits numpy's BLAS to one)."""

    def run():
        saved = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            epoch()
        finally:
            torch.set_num_threads(saved)

    return run


def cases(tiny=False):
    n = 600 if tiny else N
    impls = {"dlbook": _dlbook_epoch(n), "numpy (textbook)": _numpy_epoch(n)}
    torch = torch_or_none()
    if torch is not None:
        impls["torch"] = _torch_epoch(n, torch)
        impls["torch, 1 thread"] = _one_thread(torch, _torch_epoch(n, torch))
    baseline = "torch" if torch is not None else "numpy (textbook)"
    return [
        Case(
            name=f"MLP {D}-{H}-{C} epoch, {n} samples, batch {BATCH}, SGD, float32",
            impls=impls,
            baseline=baseline,
            target=0.6,
            repeat=7,
            warmup=2,
        )
    ]
