"""Convolution and pooling speed: python loops vs NumPy im2col (DLFS style) vs dlbook vs torch.

``python3 -m benchmarks conv`` prints the table; the book's appendix page (docs/appendix/convolution.md)
includes the table written by ``python3 -m benchmarks conv --markdown benchmarks/tables/conv.md``.
All cases are float32. Targets (dlbook / torch, GUIDE §5 and issue 4) are printed beside dlbook.
"""

import numpy as np

from dlbook import conv as K
from dlbook import pooling as P
from dlbook.architectures import simple_convnet
from dlbook.optim import SGD

from .harness import Case, torch_or_none


# ----------------------------------------------------------------------------- NumPy (DLFS style)


def _np_conv_fwd(x, w, b, pad):
    """Forward as in Deep Learning from Scratch: im2col, one matmul, reshape. Returns (y, cache)."""
    N, _, H, W = x.shape
    Kf, _, R, S = w.shape
    OH, OW = H + 2 * pad - R + 1, W + 2 * pad - S + 1
    col = K.im2col(x, R, S, 1, pad)
    col_w = w.reshape(Kf, -1).T
    y = (col @ col_w + b).reshape(N, OH, OW, -1).transpose(0, 3, 1, 2)
    return y, (col, col_w)


def _np_conv_bwd(dy, x, w, pad, cache):
    col, col_w = cache
    Kf, _, R, S = w.shape
    dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, Kf)
    db = dy2.sum(axis=0)
    dw = (col.T @ dy2).T.reshape(w.shape)
    dx = K.col2im(dy2 @ col_w.T, x.shape, R, S, 1, pad)
    return dx, dw, db


def _np_pool_fwd(x, p=2):
    """DLFS Pooling: im2col rows of one channel window each, max over the row."""
    N, C, H, W = x.shape
    OH, OW = H // p, W // p
    col = K.im2col(x.reshape(N * C, 1, H, W), p, p, p, 0)  # (N*C*OH*OW, p*p)
    arg = col.argmax(axis=1)
    y = col[np.arange(len(arg)), arg].reshape(N, C, OH, OW)
    return y, arg


def _np_pool_bwd(dy, x, arg, p=2):
    N, C, H, W = x.shape
    dcol = np.zeros((dy.size, p * p), dtype=dy.dtype)
    dcol[np.arange(dy.size), arg] = dy.ravel()
    return K.col2im(dcol, (N * C, 1, H, W), p, p, p, 0).reshape(x.shape)


class _NumpySimpleConvNet:
    """DLFS SimpleConvNet in plain NumPy (conv 30@5x5 -> ReLU -> pool 2 -> affine -> ReLU -> affine)."""

    def __init__(self, net):
        self.p = {k: v.copy() for k, v in net.params.items()}

    def step(self, x, t, lr=0.01):
        p = self.p
        c, cc = _np_conv_fwd(x, p["0.W"], p["0.b"], 0)
        r = np.maximum(c, 0)
        q, arg = _np_pool_fwd(r)
        f = q.reshape(len(x), -1)
        h1 = f @ p["3.W"] + p["3.b"]
        a1 = np.maximum(h1, 0)
        z = a1 @ p["5.W"] + p["5.b"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        dz = s.copy()
        dz[np.arange(len(t)), t] -= 1
        dz /= len(t)
        g = {"5.W": a1.T @ dz, "5.b": dz.sum(0)}
        da1 = (dz @ p["5.W"].T) * (h1 > 0)
        g["3.W"], g["3.b"] = f.T @ da1, da1.sum(0)
        dq = (da1 @ p["3.W"].T).reshape(q.shape)
        dr = _np_pool_bwd(dq, r, arg) * (c > 0)
        _, g["0.W"], g["0.b"] = _np_conv_bwd(dr, x, p["0.W"], 0, cc)
        for k in p:
            p[k] -= lr * g[k]


# ----------------------------------------------------------------------------- cases


def cases(tiny=False):
    torch = torch_or_none()
    rng = np.random.default_rng(0)
    f32 = np.float32
    out = []

    def conv_case(name, N, C, H, Kf, R, pad, target, loops=False, backward=False):
        x = rng.standard_normal((N, C, H, H)).astype(f32)
        w = (rng.standard_normal((Kf, C, R, R)) * 0.1).astype(f32)
        b = rng.standard_normal(Kf).astype(f32)
        impls = {}
        if not backward:
            if loops:
                impls["python loops"] = lambda: K.conv2d_reference(x, w, b, pad=pad)
            impls["numpy im2col (DLFS)"] = lambda: _np_conv_fwd(x, w, b, pad)
            impls["dlbook"] = lambda: K.conv2d(x, w, b, pad=pad)
            if R == 3 and C * R * R >= 64:  # Winograd F(2x2, 3x3), an explicit method for now
                impls["dlbook winograd"] = lambda: K.conv2d(x, w, b, pad=pad, method="winograd")
        else:
            dy = rng.standard_normal(K.conv2d(x, w, b, pad=pad).shape).astype(f32)

            def numpy_fb():
                _, cache = _np_conv_fwd(x, w, b, pad)
                return _np_conv_bwd(dy, x, w, pad, cache)

            impls["numpy im2col (DLFS)"] = numpy_fb
            impls["dlbook"] = lambda: (K.conv2d(x, w, b, pad=pad), K.conv2d_backward(dy, x, w, pad=pad))
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))
            if not backward:
                def torch_fwd():
                    with torch.no_grad():
                        return torch.nn.functional.conv2d(tx, tw, tb, padding=pad)

                impls["torch"] = torch_fwd
            else:
                gx, gw, gb = (a.clone().requires_grad_() for a in (tx, tw, tb))
                tdy = torch.from_numpy(dy)

                def torch_fb():
                    torch.nn.functional.conv2d(gx, gw, gb, padding=pad).backward(tdy)
                    gx.grad = gw.grad = gb.grad = None

                impls["torch"] = torch_fb
        base = "torch" if torch is not None else "numpy im2col (DLFS)"
        out.append(Case(name, impls, baseline=base, target=target if torch is not None else None))

    if tiny:
        conv_case("conv fwd 2x1x12x12, 3@5x5 (python loops)", 2, 1, 12, 3, 5, 0, None, loops=True)
        conv_case("conv fwd 2x8x10x10, 8@3x3 pad 1", 2, 8, 10, 8, 3, 1, 1.5)
        conv_case("conv fwd+bwd 2x8x10x10, 8@3x3 pad 1", 2, 8, 10, 8, 3, 1, 2.0, backward=True)
        pool_shape, step_shape, step_batch = (2, 4, 8, 8), (1, 12, 12), 4
    else:
        conv_case("conv fwd 4x1x28x28, 6@5x5 (python loops)", 4, 1, 28, 6, 5, 0, None, loops=True)
        out[-1].repeat, out[-1].warmup = 3, 1
        conv_case("conv fwd 64x1x28x28, 6@5x5", 64, 1, 28, 6, 5, 0, 0.5)
        conv_case("conv fwd 16x64x32x32, 64@3x3 pad 1", 16, 64, 32, 64, 3, 1, 1.5)
        conv_case("conv fwd+bwd 16x64x32x32, 64@3x3 pad 1", 16, 64, 32, 64, 3, 1, 2.0, backward=True)
        pool_shape, step_shape, step_batch = (16, 64, 32, 32), (1, 28, 28), 100

    # max pooling 2x2, forward + backward
    x = rng.standard_normal(pool_shape).astype(f32)
    dy = rng.standard_normal((*pool_shape[:2], pool_shape[2] // 2, pool_shape[3] // 2)).astype(f32)

    def numpy_pool():
        _, arg = _np_pool_fwd(x)
        return _np_pool_bwd(dy, x, arg)

    impls = {
        "numpy im2col (DLFS)": numpy_pool,
        "dlbook": lambda: (P.max_pool2d(x, 2), P.max_pool2d_backward(dy, x, 2)),
    }
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_()
        tdy = torch.from_numpy(dy)

        def torch_pool():
            torch.nn.functional.max_pool2d(tx, 2).backward(tdy)
            tx.grad = None

        impls["torch"] = torch_pool
    n, c, h, w = pool_shape
    out.append(Case(f"max-pool 2x2 fwd+bwd {n}x{c}x{h}x{w}", impls,
                    baseline="torch" if torch else "numpy im2col (DLFS)", target=0.5 if torch else None))

    # one SGD step of DLFS's SimpleConvNet (target: <= 60 ms absolute for batch 100, 1x28x28)
    net = simple_convnet(input_shape=step_shape)
    xb = rng.random((step_batch, *step_shape)).astype(f32)
    tb = rng.integers(0, 10, step_batch)
    opt = SGD(0.01)
    npnet = _NumpySimpleConvNet(net)
    impls = {
        "numpy im2col (DLFS)": lambda: npnet.step(xb, tb),
        "dlbook": lambda: opt.update(net.params, net.gradient(xb, tb)),
    }
    if torch is not None:
        tnet = torch.nn.Sequential(
            torch.nn.Conv2d(step_shape[0], 30, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
            torch.nn.Linear(30 * ((step_shape[1] - 4) // 2) * ((step_shape[2] - 4) // 2), 100), torch.nn.ReLU(),
            torch.nn.Linear(100, 10),
        )
        topt = torch.optim.SGD(tnet.parameters(), lr=0.01)
        txb, ttb = torch.from_numpy(xb), torch.from_numpy(tb)

        def torch_step():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tnet(txb), ttb).backward()
            topt.step()

        impls["torch"] = torch_step
    out.append(Case(f"SimpleConvNet SGD step, batch {step_batch}, {'x'.join(map(str, step_shape))}"
                    + ("" if tiny else " (target: dlbook <= 60 ms)"), impls,
                    baseline="torch" if torch else "numpy im2col (DLFS)"))
    return out
