"""Parity checks of every dlbook.cuda kernel against the CPU path, on tiny shapes.

Run by tests/test_cuda_sim.py in a subprocess with NUMBA_ENABLE_CUDASIM=1 (numba's simulator
must be switched on before numba.cuda is first imported, so it cannot share the pytest process).
Prints one JSON object: {case: [max relative error, tolerance, seconds] or "error: ..."}.
Sizes are deliberately not multiples of the tiles. Usage: python3 tests/cuda_sim_checks.py [CASE ...]
"""

import json
import sys
import time
import traceback

import numpy as np

TOL = {np.float32: 1e-4, np.float64: 1e-6}
# Every public dlbook.cuda function these cases call (tests/test_cuda_sim.py checks the list is complete).
COVERED = {
    "sigmoid", "tanh", "relu", "step", "sigmoid_grad", "tanh_grad", "relu_grad", "softmax",
    "relu_backward", "sigmoid_backward", "tanh_backward",
    "matmul", "affine_forward", "affine_backward", "sum_rows",
    "conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "lstm_forward", "lstm_backward", "log_softmax_xent", "softmax_xent_backward", "SGD",
}
CASES = {}


def case(name):
    def deco(fn):
        CASES[name] = fn
        return fn

    return deco


def rel(got, ref):
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return float("inf")
    return float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))


def _dc():
    import dlbook.cuda as dc

    return dc


def _all(dt):
    return [np.float32, np.float64] if dt is None else [dt]


def _elementwise(dt):
    import dlbook.activations as A

    dc = _dc()
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 347)) * 4).astype(dt)
    x[0, :3] = [0.0, -1000.0, 1000.0]  # sigmoid must not overflow
    d = dc.to_device(x)
    errs = []
    for name in ("sigmoid", "tanh", "relu", "step", "sigmoid_grad", "tanh_grad", "relu_grad", "softmax"):
        got = dc.to_host(getattr(dc, name)(d))
        assert got.dtype == dt, (name, got.dtype)
        errs.append(rel(got, getattr(A, name)(x)))
    # ReLU's backward follows torch on both paths: 0 where x <= 0 (even for inf/NaN dout), else dout.
    from dlbook.layers.core import relu_backward

    xs, ds = np.array([np.nan, -1.0, 0.0, 2.0, -3.0], dt), np.array([1.0, np.inf, np.nan, np.nan, 4.0], dt)
    np.testing.assert_array_equal(dc.to_host(relu_backward(dc.to_device(ds), dc.to_device(xs))), [1, 0, 0, np.nan, 0])
    np.testing.assert_array_equal(relu_backward(ds, xs), [1, 0, 0, np.nan, 0])
    return max(errs)


for _dt in (np.float32, np.float64):
    case(f"elementwise_{_dt.__name__}")(lambda dt=_dt: _elementwise(dt))


def _matmul(dt, cfg_name, shapes):
    from dlbook.cuda import gemm as G

    dc = _dc()
    cfg = {"sim": G.SIM_CONFIG, "vec": G.GemmConfig(32, 32, 4, 4, 4, True, True, True),
           "noprefetch": G.GemmConfig(16, 16, 4, 2, 2, False), "default": G.DEFAULT}[cfg_name]
    rng = np.random.default_rng(2)
    errs = []
    for (M, N, K, ta, tb) in shapes:
        a = rng.standard_normal((K, M) if ta else (M, K)).astype(dt)
        b = rng.standard_normal((N, K) if tb else (K, N)).astype(dt)
        ref = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
        got = dc.to_host(G.matmul(dc.to_device(a), dc.to_device(b), trans_a=ta, trans_b=tb, cfg=cfg))
        assert got.dtype == dt
        errs.append(rel(got, ref))
    return max(errs)


case("gemm_sim_float32")(lambda: _matmul(np.float32, "sim", [(19, 23, 13, 0, 0), (5, 33, 9, 1, 1)]))
case("gemm_sim_float64")(lambda: _matmul(np.float64, "sim", [(17, 9, 21, 1, 0), (20, 18, 3, 0, 1)]))
case("gemm_vec_float32")(lambda: _matmul(np.float32, "vec", [(37, 35, 9, 0, 0), (33, 3, 6, 1, 1)]))
case("gemm_noprefetch_float64")(lambda: _matmul(np.float64, "noprefetch", [(17, 18, 9, 0, 1)]))
def _split_k(dt):
    from dlbook.cuda import gemm as G

    dc = _dc()
    rng = np.random.default_rng(7)
    errs = []
    for (M, N, K, ta, tb, acc) in [(9, 13, 45, 0, 1, False), (17, 5, 38, 1, 0, True)]:
        a = rng.standard_normal((K, M) if ta else (M, K)).astype(dt)
        b = rng.standard_normal((N, K) if tb else (K, N)).astype(dt)
        c0 = rng.standard_normal((M, N)).astype(dt)
        C = dc.to_device(c0)
        G.gemm(dc.to_device(a), dc.to_device(b), C, M, N, K, a="t" if ta else "n", b="t" if tb else "n",
               accumulate=acc, split=3)
        ref = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b) + (c0 if acc else 0)
        errs.append(rel(dc.to_host(C), ref))
    return max(errs)


case("gemm_split_k_float64")(lambda: _split_k(np.float64))
case("gemm_default_tile_float32")(lambda: _matmul(np.float32, "default", [(9, 7, 11, 0, 0)]))


def _affine(dt):
    dc = _dc()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 3, 5)).astype(dt)
    W = rng.standard_normal((15, 9)).astype(dt)
    b = rng.standard_normal(9).astype(dt)
    dout = rng.standard_normal((7, 9)).astype(dt)
    D = dc.to_device
    out = dc.to_host(dc.affine_forward(D(x), D(W), D(b)))
    dx, dW, db = (dc.to_host(v) for v in dc.affine_backward(D(dout), D(x), D(W)))
    x2 = x.reshape(7, -1)
    big = rng.standard_normal((37, 5)).astype(dt)
    sums = dc.to_host(dc.sum_rows(D(big)))
    return max(rel(out, x2 @ W + b), rel(dx, (dout @ W.T).reshape(x.shape)), rel(dW, x2.T @ dout), rel(db, dout.sum(0)),
               rel(sums, big.sum(0)))


for _dt in (np.float32, np.float64):
    case(f"affine_{_dt.__name__}")(lambda dt=_dt: _affine(dt))

CONV_SHAPES = [  # N, C, H, W, K, R, S, stride, pad
    (2, 3, 7, 6, 5, 3, 3, 1, 1),
    (1, 2, 5, 4, 17, 2, 3, (2, 1), (1, 0)),
]


def _conv(dt, shape):
    import dlbook.conv as CPU

    dc = _dc()
    N, C, H, W, K, R, S, st, pd = shape
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, C, H, W)).astype(dt)
    w = rng.standard_normal((K, C, R, S)).astype(dt)
    b = rng.standard_normal(K).astype(dt)
    D = dc.to_device
    ref = CPU.conv2d_reference(x, w, b, stride=st, pad=pd)
    got = dc.to_host(dc.conv2d(D(x), D(w), D(b), stride=st, pad=pd))
    nob = dc.to_host(dc.conv2d(D(x), D(w), stride=st, pad=pd))
    dy = rng.standard_normal(ref.shape).astype(dt)
    rb = CPU.conv2d_backward_reference(dy, x, w, stride=st, pad=pd)
    gb = [dc.to_host(v) for v in dc.conv2d_backward(D(dy), D(x), D(w), stride=st, pad=pd)]
    nodx = dc.conv2d_backward(D(dy), D(x), D(w), stride=st, pad=pd, need_dx=False)
    assert nodx[0] is None
    return max([rel(got, ref), rel(nob, ref - b[:, None, None]), rel(dc.to_host(nodx[1]), rb[1])]
               + [rel(g, r) for g, r in zip(gb, rb)])


for _i, _s in enumerate(CONV_SHAPES):  # shape 1 (stride/pad pairs, K > tile) once: the simulator is slow
    for _dt in (np.float32, np.float64) if _i == 0 else (np.float32,):
        case(f"conv2d_{_i}_{_dt.__name__}")(lambda dt=_dt, s=_s: _conv(dt, s))


def _pool(dt):
    import dlbook.pooling as CPU

    dc = _dc()
    rng = np.random.default_rng(5)
    errs = []
    for size, stride in [(2, None), (3, 2), ((2, 3), 1)]:
        x = rng.standard_normal((2, 3, 7, 8)).astype(dt)
        x[0, 0, :2, :2] = 1.5  # a tie: the first maximum (row-major) gets the gradient
        for kind in ("max", "avg"):
            ref = getattr(CPU, f"{kind}_pool2d_reference")(x, size, stride)
            got = dc.to_host(getattr(dc, f"{kind}_pool2d")(dc.to_device(x), size, stride))
            dy = rng.standard_normal(ref.shape).astype(dt)
            rb = getattr(CPU, f"{kind}_pool2d_backward_reference")(dy, x, size, stride)
            gb = dc.to_host(getattr(dc, f"{kind}_pool2d_backward")(dc.to_device(dy), dc.to_device(x), size, stride))
            errs += [rel(got, ref), rel(gb, rb)]
    return max(errs)


for _dt in (np.float32, np.float64):
    case(f"pool_{_dt.__name__}")(lambda dt=_dt: _pool(dt))


def _lstm(dt):
    import dlbook.rnn as CPU

    dc = _dc()
    rng = np.random.default_rng(6)
    N, T, D, H = 3, 4, 5, 6
    x = rng.standard_normal((N, T, D)).astype(dt)
    h0, c0 = (rng.standard_normal((N, H)).astype(dt) for _ in range(2))
    Wx = (rng.standard_normal((D, 4 * H)) * 0.5).astype(dt)
    Wh = (rng.standard_normal((H, 4 * H)) * 0.5).astype(dt)
    b = rng.standard_normal(4 * H).astype(dt)
    dh = rng.standard_normal((N, T, H)).astype(dt)
    h, c, cache = CPU.lstm_forward_reference(x, h0, c0, Wx, Wh, b)
    ref = CPU.lstm_backward_reference(dh, cache)
    D_ = dc.to_device
    hg, cg, gcache = dc.lstm_forward(D_(x), D_(h0), D_(c0), D_(Wx), D_(Wh), D_(b))
    got = dc.lstm_backward(D_(dh), gcache)
    errs = [rel(dc.to_host(hg), h), rel(dc.to_host(cg), c)] + [rel(dc.to_host(g), r) for g, r in zip(got, ref)]
    dcu = rng.standard_normal((N, T, H)).astype(dt)  # an upstream gradient on the cell states too
    ref_c = CPU.lstm_backward(dh, CPU.lstm_forward(x, h0, c0, Wx, Wh, b)[2], dcu)
    got_c = dc.lstm_backward(D_(dh), gcache, D_(dcu))
    return max(errs + [rel(dc.to_host(g), r) for g, r in zip(got_c, ref_c)])


for _dt in (np.float32, np.float64):
    case(f"lstm_{_dt.__name__}")(lambda dt=_dt: _lstm(dt))


def _lstm_one_launch():
    """The whole recurrence as one launch with a grid barrier per step (one block here: the
    simulator runs blocks in turn, so its grid barrier only holds within one)."""
    import dlbook.rnn as CPU
    from dlbook.cuda import rnn as RN

    dc = _dc()
    rng = np.random.default_rng(10)
    N, T, D, H = 3, 5, 2, 4
    args = [rng.standard_normal(s) for s in ((N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))]
    h, c, _ = dc.lstm_forward(*[dc.to_device(a) for a in args])
    assert RN.LAST_PATH == "persistent", RN.LAST_PATH
    hr, cr, _ = CPU.lstm_forward_reference(*args)
    return max(rel(dc.to_host(h), hr), rel(dc.to_host(c), cr))


case("lstm_one_launch_float64")(_lstm_one_launch)


def _lenet(dt):
    """A LeNet training step on the GPU (dlbook.cuda.to_device(model), the same layer classes)
    equals the CPU one, gradient by gradient; so does an MLP with sigmoid and tanh layers."""
    from dlbook.architectures import lenet
    from dlbook.models import MLP

    dc = _dc()
    rng = np.random.default_rng(8)
    errs = []
    for make, x in [
        (lambda: lenet(input_shape=(1, 4, 4), classes=4, channels=(2, 3), hidden=5, dtype=dt), rng.random((2, 1, 4, 4))),
        (lambda: MLP([3, 4, 4], activation="sigmoid", dtype=dt), rng.random((2, 3))),
        (lambda: MLP([3, 4, 4], activation="tanh", dtype=dt), rng.random((2, 3))),
    ]:
        x, t = x.astype(dt), np.array([3, 1])
        cpu, gpu = make(), dc.to_device(make())
        assert type(gpu) is type(cpu) and all(dc.on_device(p) for p in gpu.params.values())
        loss_cpu = cpu.loss(x, t)
        cpu.backward()
        g_cpu = {k: np.array(v, copy=True) for k, v in cpu.grads.items()}
        loss_gpu = gpu.loss(dc.to_device(x), t)
        gpu.backward()
        assert all(dc.on_device(g) for g in gpu.grads.values())
        g_gpu = {k: dc.to_host(v) for k, v in gpu.grads.items()}
        assert sorted(g_gpu) == sorted(g_cpu), (sorted(g_gpu), sorted(g_cpu))
        errs += [abs(loss_gpu - loss_cpu) / abs(loss_cpu)] + [rel(g_gpu[k], g_cpu[k]) for k in g_cpu]
        dc.SGD(lr=0.5).update(gpu.params, gpu.grads)  # one SGD step on each side
        for k, p in cpu.params.items():
            p -= 0.5 * g_cpu[k]
        errs += [rel(dc.to_host(gpu.params[k]), cpu.params[k]) for k in cpu.params]
        assert gpu.accuracy(dc.to_device(x), t) == cpu.accuracy(x, t)
        dc.to_host(gpu)  # parameters back on the CPU, in place
        assert all(isinstance(p, np.ndarray) for p in gpu.params.values())
        errs.append(rel(gpu.params["0.W"], cpu.params["0.W"]))
    return max(errs)


case("lenet_step_float64")(lambda: _lenet(np.float64))  # float32 kernels are covered above


def _dispatch(dt):
    """The public functions send device arrays to the GPU kernels and return device arrays."""
    import dlbook.activations as A
    import dlbook.conv as C
    import dlbook.pooling as P
    import dlbook.rnn as R
    from dlbook.layers import Affine

    dc = _dc()
    D, H_ = dc.to_device, dc.to_host
    rng = np.random.default_rng(9)
    errs = []

    def same(got, ref):
        assert dc.on_device(got), type(got)
        errs.append(rel(H_(got), ref))

    x = rng.standard_normal((1, 2, 4, 5)).astype(dt)
    w = rng.standard_normal((3, 2, 3, 3)).astype(dt)
    b = rng.standard_normal(3).astype(dt)
    y = C.conv2d(D(x), D(w), D(b), stride=1, pad=1)
    same(y, C.conv2d_reference(x, w, b, stride=1, pad=1))
    dy = rng.standard_normal(tuple(y.shape)).astype(dt)
    for g, r in zip(C.conv2d_backward(D(dy), D(x), D(w), stride=1, pad=1),
                    C.conv2d_backward_reference(dy, x, w, stride=1, pad=1)):
        same(g, r)
    for kind in ("max", "avg"):
        p = getattr(P, f"{kind}_pool2d")(D(x), 2)
        same(p, getattr(P, f"{kind}_pool2d_reference")(x, 2))
        dp = rng.standard_normal(tuple(p.shape)).astype(dt)
        same(getattr(P, f"{kind}_pool2d_backward")(D(dp), D(x), 2),
             getattr(P, f"{kind}_pool2d_backward_reference")(dp, x, 2))
    a = rng.standard_normal((2, 5)).astype(dt)
    for name in ("sigmoid", "tanh", "relu", "step", "sigmoid_grad", "tanh_grad", "relu_grad", "softmax"):
        same(getattr(A, name)(D(a)), getattr(A, name)(a))
    N, T, Dd, H = 2, 2, 3, 3
    xs = rng.standard_normal((N, T, Dd)).astype(dt)
    h0, c0 = (rng.standard_normal((N, H)).astype(dt) for _ in range(2))
    Wx, Wh, bb = (rng.standard_normal(s).astype(dt) * 0.5 for s in ((Dd, 4 * H), (H, 4 * H), (4 * H,)))
    h, c, cache = R.lstm_forward(D(xs), D(h0), D(c0), D(Wx), D(Wh), D(bb))
    hr, cr, cache_r = R.lstm_forward_reference(xs, h0, c0, Wx, Wh, bb)
    same(h, hr)
    same(c, cr)
    dh = rng.standard_normal((N, T, H)).astype(dt)
    for g, r in zip(R.lstm_backward(D(dh), cache), R.lstm_backward_reference(dh, cache_r)):
        same(g, r)
    W2, b2 = rng.standard_normal((15, 6)).astype(dt), rng.standard_normal(6).astype(dt)
    layer = Affine(W2, b2)  # NumPy parameters, a device input: the GPU path (W copied over)
    xa = rng.standard_normal((4, 3, 5)).astype(dt)
    same(layer.forward(D(xa)), xa.reshape(4, 15) @ W2 + b2)
    da = rng.standard_normal((4, 6)).astype(dt)
    same(layer.backward(D(da)), (da @ W2.T).reshape(xa.shape))
    same(layer.grads["W"], xa.reshape(4, 15).T @ da)
    same(layer.grads["b"], da.sum(0))
    return max(errs)


case("dispatch_float64")(lambda: _dispatch(np.float64))


def _bad_inputs():
    """Bad shapes and dtypes raise ValueError naming them, before any kernel runs."""
    dc = _dc()
    D = dc.to_device
    f4 = np.float32
    x = D(np.zeros((2, 3, 5, 5), f4))
    cases = [
        (lambda: dc.conv2d(x, D(np.zeros((4, 2, 3, 3), f4))), "channel mismatch"),
        (lambda: dc.conv2d(x, D(np.zeros((4, 3, 3, 3), np.float64))), "dtype"),
        (lambda: dc.conv2d(x, D(np.zeros((4, 3, 9, 9), f4))), "larger than padded"),
        (lambda: dc.conv2d(x, D(np.zeros((4, 3, 3, 3), f4)), stride=0), "stride"),
        (lambda: dc.conv2d(x, D(np.zeros((4, 3, 3, 3), f4)), D(np.zeros(5, f4))), "b: expected shape"),
        (lambda: dc.sigmoid(D(np.zeros(3, np.int64))), "float32 or float64"),
        (lambda: dc.softmax(x, axis=1), "last axis"),
        (lambda: dc.matmul(D(np.zeros((2, 3), f4)), D(np.zeros((4, 2), f4))), "inner dimensions"),
        (lambda: dc.max_pool2d(x, 7), "larger than the input"),
        (lambda: dc.max_pool2d_backward(D(np.zeros((2, 3, 3, 3), f4)), x, 2), "dy: expected shape"),
        (lambda: dc.affine_forward(D(np.zeros((2, 5), f4)), D(np.zeros((4, 3), f4)), D(np.zeros(3, f4))), "W must have shape"),
        (lambda: dc.lstm_forward(D(np.zeros((2, 3, 4), f4)), D(np.zeros((2, 5), f4)), D(np.zeros((2, 5), f4)),
                                 D(np.zeros((4, 20), f4)), D(np.zeros((5, 16), f4)), D(np.zeros(20, f4))), "lstm_forward"),
    ]
    for fn, words in cases:
        try:
            fn()
        except ValueError as err:
            assert words in str(err), (words, str(err))
        else:
            raise AssertionError(f"no ValueError for {words!r}")
    return 0.0


case("bad_inputs_float64")(_bad_inputs)


def _row_stack():
    import dlbook.cuda as dc

    dc._cuda()
    assert hasattr(np, "row_stack")  # restored if this NumPy had removed it
    return 0.0


case("numpy_row_stack_float64")(_row_stack)


def run(names):
    results = {}
    for name in names:
        t0 = time.perf_counter()
        tol = TOL[np.float64] if name.endswith("float64") else TOL[np.float32]
        try:
            err = CASES[name]()
            results[name] = [err, tol, round(time.perf_counter() - t0, 2)]
        except Exception:
            results[name] = "error: " + traceback.format_exc(limit=6)
    return results


if __name__ == "__main__":
    names = sys.argv[1:] or list(CASES)
    print(json.dumps(run(names)))
