"""fit(): history, seeds, BGD/SGD/MBGD batch sizes, the progress switch, bad input."""

import numpy as np
import pytest

from dlbook.layers import Affine, MeanSquaredLoss
from dlbook.models import MLP, Sequential
from dlbook.optim import SGD, Adam
from dlbook.train import History, fit, iterate_minibatches


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    x = (centers[t] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, t


def test_fit_learns_and_records_history():
    x, t = _blobs()
    model = MLP([2, 16, 3], seed=0)
    h = fit(model, Adam(0.05), x, t, epochs=15, batch_size=20, x_val=x[:30], t_val=t[:30], progress=False)
    assert isinstance(h, History) and h.epochs == 15
    assert len(h["loss"]) == len(h["train_acc"]) == len(h["val_acc"]) == 15
    assert len(h["batch_loss"]) == 15 * 6
    assert h["loss"][-1] < h["loss"][0]
    assert h["train_acc"][-1] >= 0.95
    assert model.params["0.W"].dtype == np.float32


def test_fit_is_deterministic_given_seed():
    x, t = _blobs()
    runs = []
    for _ in range(2):
        model = MLP([2, 8, 3], seed=3)
        runs.append(fit(model, SGD(0.1), x, t, epochs=3, batch_size=16, seed=5, progress=False)["loss"])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("batch_size, batches", [(1, 40), (40, 1), (15, 3)])
def test_batch_sizes_sgd_bgd_mbgd(batch_size, batches):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 1))
    t = 3 * x
    model = Sequential(Affine(np.zeros((1, 1)), np.zeros(1)), loss=MeanSquaredLoss())
    h = fit(model, SGD(0.1), x, t, epochs=50, batch_size=batch_size, progress=False)
    assert len(h["batch_loss"]) == 50 * batches
    assert h["train_acc"] == []
    assert abs(model.params["0.W"][0, 0] - 3) < 0.1


def test_progress_bar_switch(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    x, t = _blobs(20)
    monkeypatch.setenv("DLBOOK_PROGRESS", "0")
    fit(MLP([2, 4, 3]), SGD(0.1), x, t, epochs=2, batch_size=10)
    assert "epoch" not in capsys.readouterr().err
    fit(MLP([2, 4, 3]), SGD(0.1), x, t, epochs=2, batch_size=10, progress=True)
    assert "epoch" in capsys.readouterr().err


def test_minibatches_cover_everything():
    idx = np.concatenate(list(iterate_minibatches(10, 3, np.random.default_rng(0))))
    assert sorted(idx) == list(range(10))


def test_fit_bad_input():
    x, t = _blobs(20)
    model = MLP([2, 4, 3])
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, SGD(0.1), x, t, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="targets"):
        fit(model, SGD(0.1), x, t[:5], epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="x_val and t_val"):
        fit(model, SGD(0.1), x, t, epochs=1, batch_size=4, x_val=x)


def test_notebook_progress_line_keeps_only_the_last_state():
    from dlbook.train import _NotebookLine

    shown = []

    class Handle:
        def update(self, data, raw):
            shown.append(data["text/plain"])

    line = _NotebookLine(lambda data, raw, display_id: Handle())
    line.write("\repochs:  50%| 1/2")
    line.write("\repochs: 100%| 2/2")
    line.write("\n")
    line.flush()
    assert shown == ["epochs:  50%| 1/2", "epochs: 100%| 2/2"]
