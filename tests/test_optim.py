"""Optimizers: in-place updates, the formulas, dtype, bad input, parity with torch.optim."""

import numpy as np
import pytest

from dlbook.optim import SGD, Adam, Momentum


def _pg(dtype=np.float64):
    rng = np.random.default_rng(0)
    p = {"w": rng.standard_normal((3, 2)).astype(dtype), "b": rng.standard_normal(2).astype(dtype)}
    g = {"w": rng.standard_normal((3, 2)).astype(dtype), "b": rng.standard_normal(2).astype(dtype)}
    return p, g


def test_sgd_in_place_formula():
    p, g = _pg()
    w = p["w"]
    before = {k: v.copy() for k, v in p.items()}
    SGD(lr=0.1).update(p, g)
    assert p["w"] is w
    for k in p:
        np.testing.assert_allclose(p[k], before[k] - 0.1 * g[k])


def test_momentum_formula_two_steps():
    p, g = _pg()
    w0 = p["w"].copy()
    opt = Momentum(lr=0.1, momentum=0.9)
    opt.update(p, g)
    opt.update(p, g)
    v1 = -0.1 * g["w"]
    v2 = 0.9 * v1 - 0.1 * g["w"]
    np.testing.assert_allclose(p["w"], w0 + v1 + v2)


def test_adam_first_step_is_lr_times_sign():
    p, g = _pg()
    w0 = p["w"].copy()
    Adam(lr=0.01).update(p, g)
    np.testing.assert_allclose(p["w"], w0 - 0.01 * np.sign(g["w"]), rtol=1e-6)


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_float32_stays_float32(cls):
    p, g = _pg(np.float32)
    cls(lr=0.01).update(p, g)
    assert all(v.dtype == np.float32 for v in p.values())


def test_bad_input():
    p, g = _pg()
    with pytest.raises(ValueError, match="lr"):
        SGD(lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        Momentum(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="keys"):
        SGD(0.1).update(p, {"w": g["w"]})
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        SGD(0.1).update(p, {"w": g["w"], "b": np.zeros(3)})


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Adam"])
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(5)]
    p = {"w": w.copy()}
    tw = torch.tensor(w.copy(), requires_grad=True)
    if name == "SGD":
        ours, theirs = SGD(0.05), torch.optim.SGD([tw], lr=0.05)
    elif name == "Momentum":
        # torch: v = m v + g; w -= lr v  ==  ours with v' = -lr v
        ours, theirs = Momentum(0.05, 0.9), torch.optim.SGD([tw], lr=0.05, momentum=0.9)
    else:
        ours, theirs = Adam(0.01), torch.optim.Adam([tw], lr=0.01)
    for g in grads:
        ours.update(p, {"w": g})
        tw.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(p["w"], tw.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_numba_kernel_agrees_with_numpy_path(shape, dtype):
    """Contiguous parameters take the numba kernel; a strided view takes the NumPy fallback."""
    rng = np.random.default_rng(len(shape))
    p = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    expected = p - dtype(0.3) * g
    fast = {"w": p.copy()}
    SGD(0.3).update(fast, {"w": g})
    big = np.zeros(shape + (2,), dtype)
    strided = big[..., 0]
    strided[...] = p
    SGD(0.3).update({"w": strided}, {"w": g})
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(fast["w"], expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(strided, expected, rtol=tol, atol=tol)
    assert fast["w"].dtype == dtype
