"""GPU parity and speed check of dlbook.cuda against PyTorch (cuDNN/cuBLAS, TF32 off) on one card.

    PYTHONPATH=. python3 benchmarks/gpu_check.py [--json FILE] [--budget SECONDS]
    python3 benchmarks/gpu_check.py --sim        # tiny sizes under numba's CUDA simulator (no GPU)

Each case checks dlbook's result against torch's (relative error ||a - b|| / ||b||) and times
both: CUDA synchronize + perf_counter around a batch of calls, median of 5 batches, after
warm-up (so compilation and cuDNN's autotuning are excluded). Every case runs in its own
try/except: a failure is printed and the script goes on. The last thing printed is a markdown
table; ``--json`` also writes every number. Needs numba-cuda and torch; not pytest or sybil.
"""

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ARGS = None
T_START = time.perf_counter()
ROWS = []  # dicts: case, dlbook_ms, torch_ms, ratio, target, met, err, note


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sim", action="store_true", help="tiny sizes under NUMBA_ENABLE_CUDASIM=1 (no GPU needed)")
    p.add_argument("--json", metavar="FILE", help="write all results to FILE as JSON")
    p.add_argument("--budget", type=float, default=240.0, help="seconds after which optional cases are skipped")
    p.add_argument("--deadline", type=float, default=420.0, help="seconds after which every remaining case is skipped")
    p.add_argument("--only", nargs="*", help="run only these case groups")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- backend
class Backend:
    """Real GPU (torch CUDA tensors shared zero-copy with numba) or simulator (torch CPU + numpy)."""

    def __init__(self, sim):
        self.sim = sim
        import torch

        self.torch = torch
        import dlbook.cuda as dc

        self.dc = dc
        self.cuda = dc._cuda()
        if sim:
            self.device = "cpu"
        else:
            if not torch.cuda.is_available():
                raise SystemExit("gpu_check: torch sees no CUDA GPU; run with --sim to test the script's logic")
            self.device = "cuda"
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cudnn.benchmark = True  # let cuDNN pick its fastest algorithm
            torch.set_float32_matmul_precision("highest")
        torch.manual_seed(0)

    def randn(self, *shape, scale=1.0):
        return self.torch.randn(*shape, device=self.device, dtype=self.torch.float32) * scale

    def to_dl(self, t):
        """torch tensor -> numba device array (zero-copy on a GPU; a copy in the simulator)."""
        if self.sim:
            return self.dc.to_device(t.detach().cpu().numpy())
        return self.dc.to_device(t.detach())

    def from_dl(self, d):
        """numba device array -> torch tensor on the same device."""
        if self.sim:
            return self.torch.from_numpy(self.dc.to_host(d))
        return self.torch.as_tensor(d, device="cuda")

    def sync(self):
        if not self.sim:
            self.cuda.synchronize()

    def rel(self, got, ref):
        got = self.from_dl(got) if not isinstance(got, self.torch.Tensor) else got
        got, ref = got.double(), ref.detach().double()
        if tuple(got.shape) != tuple(ref.shape):
            return float("inf")
        return float((got - ref).norm() / ref.norm().clamp_min(1e-30))

    def time_ms(self, fn, target_s=0.05, repeats=5):
        """Median milliseconds per call of ``fn``, after warm-up, batches of ~target_s seconds."""
        if self.sim:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
        fn()
        fn()
        self.sync()
        t0 = time.perf_counter()
        fn()
        self.sync()
        one = max(time.perf_counter() - t0, 1e-6)
        reps = int(min(200, max(3, target_s / one)))
        samples = []
        for _ in range(repeats):
            self.sync()
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            self.sync()
            samples.append((time.perf_counter() - t0) / reps * 1e3)
        return statistics.median(samples)


def record(case, dl_ms, torch_ms, target=None, err=None, note="", higher_is_better=False, tol=1e-4):
    ratio = dl_ms / torch_ms if (dl_ms and torch_ms) else None
    met = None
    if target is not None and ratio is not None:
        met = (torch_ms / dl_ms >= target) if higher_is_better else (ratio <= target)
    ok = None if err is None else bool(err <= tol)
    row = dict(case=case, dlbook_ms=dl_ms, torch_ms=torch_ms, ratio=ratio, target=target,
               higher_is_better=higher_is_better, met=met, err=err, parity_ok=ok, note=note)
    ROWS.append(row)
    print(f"  {case}: dlbook {dl_ms:.4g} ms, torch {torch_ms if torch_ms is None else round(torch_ms, 4)} ms, "
          f"ratio {ratio if ratio is None else round(ratio, 3)}, rel err {err if err is None else f'{err:.2e}'} {note}",
          flush=True)
    return row


def tflops(flop, ms):
    return flop / (ms * 1e-3) / 1e12


# ----------------------------------------------------------------------------- cases
def case_sigmoid(B):
    n = 64 * 2**20 if not B.sim else 3000
    x = B.randn(n, scale=4.0)
    xd = B.to_dl(x)
    out = B.to_dl(B.torch.empty_like(x))  # dlbook writes into a buffer torch allocated
    y = B.dc.sigmoid(xd)
    err = B.rel(y, B.torch.sigmoid(x))
    t_torch_out = B.torch.empty_like(x)
    t_torch = B.time_ms(lambda: B.torch.sigmoid(x, out=t_torch_out))
    t_dl = B.time_ms(lambda: B.dc.sigmoid(xd, out=out))
    t_copy = B.time_ms(lambda: t_torch_out.copy_(x))  # the bandwidth ceiling: read n, write n
    gbs = lambda ms: 2 * 4 * n / (ms * 1e-3) / 1e9  # noqa: E731
    record("sigmoid 64M fp32 (out= buffer)", t_dl, t_torch, target=1.2, err=max(err, B.rel(out, B.torch.sigmoid(x))),
           note=f"{gbs(t_dl):.0f} GB/s; torch sigmoid {gbs(t_torch):.0f}, torch copy {gbs(t_copy):.0f} GB/s")
    t_alloc = B.time_ms(lambda: B.dc.sigmoid(xd))
    t_torch_alloc = B.time_ms(lambda: B.torch.sigmoid(x))
    record("sigmoid 64M fp32 (allocating)", t_alloc, t_torch_alloc, err=err, note="numba allocates with cuMemAlloc")


def case_sgemm(B):
    from dlbook.cuda import gemm as G

    n = 4096 if not B.sim else 37
    a, b = B.randn(n, n), B.randn(n, n)
    ad, bd = B.to_dl(a), B.to_dl(b)
    ref = a.double() @ b.double()  # parity against float64 (METHOD: a higher-precision reference)
    t_torch = B.time_ms(lambda: a @ b)
    out = B.to_dl(B.torch.empty_like(a))
    configs = {"128x128x8 8x8/thread, unrolled (default)": G.DEFAULT,
               "128x128x8 loop": G.GemmConfig(128, 128, 8, 8, 8, True, True),
               "128x128x8 loop, no prefetch": G.GemmConfig(128, 128, 8, 8, 8, False, True),
               "128x64x8 unrolled": G.GemmConfig(128, 64, 8, 8, 8, True, True, True),
               "64x64x16 4x4/thread": G.SMALL}
    if B.sim:
        configs = {"sim 16x16": G.SIM_CONFIG}
    best = None
    for name, cfg in configs.items():
        try:
            y = G.matmul(ad, bd, cfg=cfg, out=out)
            err = B.rel(y, ref)
            t = B.time_ms(lambda: G.matmul(ad, bd, cfg=cfg, out=out))
            row = record(f"SGEMM {n}^3 [{name}]", t, t_torch, target=0.4, higher_is_better=True, err=err,
                         note=f"{tflops(2 * n**3, t):.1f} vs cuBLAS {tflops(2 * n**3, t_torch):.1f} TFLOP/s")
            if best is None or t < best["dlbook_ms"]:
                best = row
        except Exception:
            print(f"  SGEMM [{name}] FAILED:\n{traceback.format_exc(limit=8)}", flush=True)
    if best:
        ROWS.append(dict(best, case=f"SGEMM {n}^3 (best tile)"))


def case_conv(B):
    from dlbook.cuda import conv as CV
    from dlbook.cuda import gemm as G

    F = B.torch.nn.functional
    N, C, H, W, K = (64, 64, 56, 56, 64) if not B.sim else (2, 3, 7, 6, 5)
    x, w, b = B.randn(N, C, H, W), B.randn(K, C, 3, 3, scale=0.1), B.randn(K)
    xd, wd, bd = B.to_dl(x), B.to_dl(w), B.to_dl(b)
    ref = F.conv2d(x.double(), w.double(), b.double(), padding=1)  # float64 reference
    t_torch = B.time_ms(lambda: F.conv2d(x, w, b, padding=1))
    flop = 2 * N * K * H * W * C * 9
    configs = dict(CV.CONV_CONFIGS) if not B.sim else {"sim": G.SIM_CONFIG}
    best = None
    for name, cfg in configs.items():
        try:
            y = CV.conv2d(xd, wd, bd, stride=1, pad=1, cfg=cfg)
            err = B.rel(y, ref)
            t = B.time_ms(lambda: CV.conv2d(xd, wd, bd, stride=1, pad=1, cfg=cfg))
            row = record(f"conv2d fwd {N}x{C}x{H}x{W} {K}@3x3 pad1 [{name}]", t, t_torch, target=3.0, err=err,
                         note=f"{tflops(flop, t):.1f} vs cuDNN {tflops(flop, t_torch):.1f} TFLOP/s")
            if best is None or t < best["dlbook_ms"]:
                best = row
        except Exception:
            print(f"  conv [{name}] FAILED:\n{traceback.format_exc(limit=8)}", flush=True)
    if best:
        ROWS.append(dict(best, case=f"conv2d fwd {N}x{C}x{H}x{W} {K}@3x3 pad1 (best tile)"))


def case_conv_backward(B):
    torch = B.torch
    F = torch.nn.functional
    N, C, H, W, K = (64, 64, 56, 56, 64) if not B.sim else (2, 3, 7, 6, 5)
    x, w, b = B.randn(N, C, H, W), B.randn(K, C, 3, 3, scale=0.1), B.randn(K)
    dy = B.randn(N, K, H, W)
    xd, wd, bd, dyd = B.to_dl(x), B.to_dl(w), B.to_dl(b), B.to_dl(dy)
    xr, wr, br = (t.clone().requires_grad_() for t in (x, w, b))

    def torch_fb():
        y = F.conv2d(xr, wr, br, padding=1)
        return torch.autograd.grad(y, (xr, wr, br), dy)

    refs = torch_fb()
    got = B.dc.conv2d_backward(dyd, xd, wd, stride=1, pad=1)
    err = max(B.rel(g, r) for g, r in zip(got, refs))
    t_torch = B.time_ms(torch_fb)

    def dl_fb():
        B.dc.conv2d(xd, wd, bd, stride=1, pad=1)
        return B.dc.conv2d_backward(dyd, xd, wd, stride=1, pad=1)

    t = B.time_ms(dl_fb)
    record(f"conv2d fwd+bwd {N}x{C}x{H}x{W} {K}@3x3", t, t_torch, err=err, note="bwd: im2col + GEMM on device")


def case_pool(B):
    torch = B.torch
    F = torch.nn.functional
    shape = (64, 64, 56, 56) if not B.sim else (2, 3, 7, 8)
    x = B.randn(*shape)
    xd = B.to_dl(x)
    for kind, tf in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        fwd = getattr(B.dc, f"{kind}_pool2d")
        bwd = getattr(B.dc, f"{kind}_pool2d_backward")
        ref = tf(x, 2)
        y = fwd(xd, 2)
        dy = B.randn(*ref.shape)
        dyd = B.to_dl(dy)
        xr = x.clone().requires_grad_()

        def torch_fb():
            return torch.autograd.grad(tf(xr, 2), xr, dy)[0]

        dref = torch_fb()
        err = max(B.rel(y, ref), B.rel(bwd(dyd, xd, 2), dref))
        t_torch = B.time_ms(lambda: tf(x, 2))
        t = B.time_ms(lambda: fwd(xd, 2))
        record(f"{kind}_pool 2x2 fwd {'x'.join(map(str, shape))}", t, t_torch, err=err)
        t_torch = B.time_ms(torch_fb)
        t = B.time_ms(lambda: (fwd(xd, 2), bwd(dyd, xd, 2)))
        record(f"{kind}_pool 2x2 fwd+bwd", t, t_torch, err=err)


def case_affine(B):
    torch = B.torch
    N, D, M = (1024, 4096, 4096) if not B.sim else (7, 15, 9)
    x, W, b, dout = B.randn(N, D), B.randn(D, M, scale=D**-0.5), B.randn(M), B.randn(N, M)
    xd, Wd, bd, doutd = (B.to_dl(t) for t in (x, W, b, dout))
    err = B.rel(B.dc.affine_forward(xd, Wd, bd), torch.addmm(b, x, W))
    t_torch = B.time_ms(lambda: torch.addmm(b, x, W))
    t = B.time_ms(lambda: B.dc.affine_forward(xd, Wd, bd))
    record(f"Affine fwd {N}x{D} @ {D}x{M}", t, t_torch, err=err)

    def torch_bwd():
        return dout @ W.T, x.T @ dout, dout.sum(0)

    refs = torch_bwd()
    got = B.dc.affine_backward(doutd, xd, Wd)
    err = max(B.rel(g, r) for g, r in zip(got, refs))
    t_torch = B.time_ms(torch_bwd)
    t = B.time_ms(lambda: B.dc.affine_backward(doutd, xd, Wd))
    record("Affine bwd (dx, dW, db)", t, t_torch, err=err)


def _torch_lstm(B, Wx, Wh, b):
    torch = B.torch
    D, H4 = Wx.shape
    lstm = torch.nn.LSTM(D, H4 // 4, batch_first=True).to(B.device)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(Wx.T)
        lstm.weight_hh_l0.copy_(Wh.T)
        lstm.bias_ih_l0.copy_(b)
        lstm.bias_hh_l0.zero_()
    return lstm


def case_lstm(B, backward=False):
    torch = B.torch
    N, T, D, H = (64, 50, 256, 512) if not B.sim else (3, 4, 5, 4)
    x, h0, c0 = B.randn(N, T, D), B.randn(N, H), B.randn(N, H)
    Wx, Wh, b = B.randn(D, 4 * H, scale=D**-0.5), B.randn(H, 4 * H, scale=H**-0.5), B.randn(4 * H, scale=0.1)
    lstm = _torch_lstm(B, Wx, Wh, b)
    xd, h0d, c0d, Wxd, Whd, bd = (B.to_dl(t) for t in (x, h0, c0, Wx, Wh, b))
    tag = f"T{T} N{N} D{D} H{H}"
    if not backward:
        from dlbook.cuda import gemm as G
        from dlbook.cuda import rnn as RN

        with torch.no_grad():
            ref, _ = lstm(x, (h0[None], c0[None]))
            t_torch = B.time_ms(lambda: lstm(x, (h0[None], c0[None])))
        configs = {"step tile 16x64 (default)": RN.STEP_CONFIG, "step tile 32x64": G.GemmConfig(32, 64, 16, 4, 4, True, True),
                   "step tile 64x64": G.GemmConfig(64, 64, 16, 4, 4, True, True)}
        if B.sim:
            configs = {"sim": RN.SIM_STEP_CONFIG}
        best = None
        variants = [(name, cfg, True) for name, cfg in configs.items()]
        variants.append(("step tile 16x64, one launch per step" if not B.sim else "sim, per step",
                         RN.STEP_CONFIG if not B.sim else RN.SIM_STEP_CONFIG, False))
        for name, cfg, persistent in variants:
            try:
                RN.PERSISTENT = persistent
                h, c, _cache = B.dc.lstm_forward(xd, h0d, c0d, Wxd, Whd, bd, cfg=cfg)
                path = RN.LAST_PATH
                err = B.rel(h, ref)
                t = B.time_ms(lambda: B.dc.lstm_forward(xd, h0d, c0d, Wxd, Whd, bd, cfg=cfg))
                note = f"recurrence: {path}; torch: cuDNN, no_grad"
                row = record(f"LSTM fwd {tag} [{name}]", t, t_torch, target=3.0, err=err, note=note)
                if best is None or t < best["dlbook_ms"]:
                    best = row
            except Exception:
                print(f"  LSTM [{name}] FAILED:\n{traceback.format_exc(limit=8)}", flush=True)
            finally:
                RN.PERSISTENT = True
        if RN._PERSISTENT_FAILED:
            print(f"  one-launch recurrence failed, fell back to per-step launches: {RN._PERSISTENT_FAILED}", flush=True)
        if best:
            ROWS.append(dict(best, case=f"LSTM fwd {tag} (best step tile)"))
        return
    dh = B.randn(N, T, H)
    dhd = B.to_dl(dh)
    xr, h0r, c0r = (t.clone().requires_grad_() for t in (x, h0, c0))

    def torch_fb():
        out, _ = lstm(xr, (h0r[None], c0r[None]))
        return torch.autograd.grad(out, (xr, h0r, c0r, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0), dh)

    refs = torch_fb()
    _h, _c, cache = B.dc.lstm_forward(xd, h0d, c0d, Wxd, Whd, bd)
    got = B.dc.lstm_backward(dhd, cache)
    pairs = [(got[0], refs[0]), (got[1], refs[1]), (got[2], refs[2]),
             (B.from_dl(got[3]).T, refs[3]), (B.from_dl(got[4]).T, refs[4]), (got[5], refs[5])]
    err = max(B.rel(g, r) for g, r in pairs)
    t_torch = B.time_ms(torch_fb)

    def dl_fb():
        _h, _c, cache = B.dc.lstm_forward(xd, h0d, c0d, Wxd, Whd, bd)
        return B.dc.lstm_backward(dhd, cache)

    t = B.time_ms(dl_fb)
    record(f"LSTM fwd+bwd {tag}", t, t_torch, err=err, note="torch: cuDNN autograd")


def case_small_parity(B):
    """The simulator test cases (tiny, odd sizes, float32 and float64), on the real kernels."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cuda_sim_checks", ROOT / "tests" / "cuda_sim_checks.py")
    cuda_sim_checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cuda_sim_checks)

    results = {}
    row = dict(case="small-shape parity (f32+f64, odd sizes)", dlbook_ms=None, torch_ms=None, ratio=None,
               target=None, met=None, err=None, parity_ok=None, note="", higher_is_better=False)
    ROWS.append(row)  # updated case by case, so a run stopped half-way still reports what passed
    for name in cuda_sim_checks.CASES:
        v = results[name] = cuda_sim_checks.run([name])[name]
        print(f"  {name}: {v if isinstance(v, str) else f'rel err {v[0]:.2e} (tol {v[1]:g}, {v[2]:.1f} s)'}", flush=True)
        bad = sorted(k for k, r in results.items() if isinstance(r, str) or r[0] > r[1])
        row["err"] = max((r[0] for r in results.values() if not isinstance(r, str)), default=None)
        row["parity_ok"] = not bad
        row["note"] = (f"{len(results)}/{len(cuda_sim_checks.CASES)} cases ran, "
                       + ("all pass" if not bad else f"FAILED: {bad}"))


CASES = [  # (group, function, optional)
    ("sigmoid", case_sigmoid, False),
    ("sgemm", case_sgemm, False),
    ("conv", case_conv, False),
    ("lstm", lambda B: case_lstm(B, backward=False), False),
    ("pool", case_pool, False),
    ("affine", case_affine, False),
    ("conv_bwd", case_conv_backward, True),
    ("lstm_bwd", lambda B: case_lstm(B, backward=True), True),
    ("small_parity", case_small_parity, True),
]


# ----------------------------------------------------------------------------- report
def _fmt(v, spec):
    return "–" if v is None else format(v, spec)


def table():
    lines = [
        "| case | dlbook ms | torch ms | dlbook/torch | target | met | rel err | note |",
        "|---|---:|---:|---:|---|---|---:|---|",
    ]
    for r in ROWS:
        if r["target"] is None:
            target = ""
        elif r["higher_is_better"]:
            target = f">= {r['target']:.0%} of torch speed"
        else:
            target = f"<= {r['target']:g}x"
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        err = _fmt(r["err"], ".1e") + ("" if r["parity_ok"] in (None, True) else " FAIL")
        lines.append(
            f"| {r['case']} | {_fmt(r['dlbook_ms'], '.3f')} | {_fmt(r['torch_ms'], '.3f')} | "
            f"{_fmt(r['ratio'], '.2f')} | {target} | {met} | {err} | {r['note']} |"
        )
    return "\n".join(lines)


def _str_keys(value):
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


def kernel_resources(B):
    """Registers and local memory (spills) per thread of every generated GEMM kernel compiled."""
    out = {}
    if B.sim:
        return out
    try:
        from dlbook.cuda import gemm as G

        print("\ngenerated GEMM kernels: registers / local bytes per thread (local > 0 means spills)")
        for key, kern in G._CACHE.items():
            if not hasattr(kern, "get_regs_per_thread"):
                continue
            try:
                regs = kern.get_regs_per_thread()
                local = kern.get_local_mem_per_thread()
            except Exception as exc:  # noqa: BLE001
                regs, local = f"? ({exc})", "?"
            label = f"{key[0]} {key[1]} {dict(key[2])}"
            # get_regs_per_thread() answers a dict keyed by signature tuples: JSON needs str keys.
            out[label] = dict(regs=_str_keys(regs), local=_str_keys(local))
            print(f"  {label}: regs {regs}, local {local}")
    except Exception:
        print(traceback.format_exc(limit=4))
    return out


def main(argv=None):
    global ARGS
    ARGS = parse_args(argv)
    os.environ.setdefault("NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS", "0")
    if ARGS.sim:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # before numba is first imported
    try:
        import dlbook  # noqa: F401
    except ImportError:
        sys.exit("dlbook is not importable: pip install -e . (or run with PYTHONPATH=. from the repository root)")
    warnings.filterwarnings("ignore", module="numba")
    warnings.filterwarnings("ignore", message=".*[Gg]rid size.*")
    import numba
    import numpy

    B = Backend(ARGS.sim)
    dev = "numba CUDA simulator (CPU)" if ARGS.sim else B.torch.cuda.get_device_name(0)
    try:
        from importlib.metadata import version

        nc = version("numba-cuda")
    except Exception:
        nc = "?"
    header = (f"device: {dev}; python {platform.python_version()}, numpy {numpy.__version__}, numba {numba.__version__}, "
              f"numba-cuda {nc}, torch {B.torch.__version__}; TF32 off; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(header, flush=True)
    class Stop(BaseException):  # not an Exception: the per-case handlers must not swallow it
        pass

    def on_term(signum, frame):  # `timeout` sends SIGTERM: stop, but still print the table
        raise Stop(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        for group, fn, optional in CASES:
            if ARGS.only and group not in ARGS.only:
                continue
            elapsed = time.perf_counter() - T_START
            if (optional and elapsed > ARGS.budget) or elapsed > ARGS.deadline:
                print(f"[{group}] skipped: {elapsed:.0f} s elapsed (budget {ARGS.budget:.0f} s, deadline {ARGS.deadline:.0f} s)",
                      flush=True)
                continue
            print(f"[{group}] (t = {elapsed:.0f} s)", flush=True)
            t0 = time.perf_counter()
            try:
                fn(B)
            except Exception:
                print(f"  {group} FAILED:\n{traceback.format_exc(limit=10)}", flush=True)
                ROWS.append(dict(case=f"{group}: FAILED (see log)", dlbook_ms=None, torch_ms=None, ratio=None, target=None,
                                 met=None, err=None, parity_ok=False, note="exception", higher_is_better=False))
            print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    except (Stop, KeyboardInterrupt) as exc:
        print(f"\nstopped early ({exc}); the table holds the cases that finished", flush=True)
    resources = kernel_resources(B)
    total = time.perf_counter() - T_START
    # The table first: nothing after it may cost the run its result.
    print(f"\n{header}; total {total:.0f} s\n")
    print(table())
    if ARGS.json:
        Path(ARGS.json).write_text(
            json.dumps(dict(header=header, total_s=total, rows=ROWS, kernels=resources), indent=1, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
