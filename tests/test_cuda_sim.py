"""The CUDA path without a GPU: every dlbook.cuda kernel under numba's simulator, plus the
no-GPU behaviour (importing dlbook never needs CUDA; asking for the GPU gives one clear error).

numba reads NUMBA_ENABLE_CUDASIM when numba.cuda is first imported, so the simulator runs in a
subprocess (tests/cuda_sim_checks.py, all cases in one process, about 30 s on 2 cores).
"""

import json
import os
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import cuda_simulator_output

pytest.importorskip("numba.cuda", reason="numba-cuda is not installed (pip install 'dlbook[gpu]')")

HERE = Path(__file__).parent
ROOT = HERE.parent
# Loaded from its path (no sys.path edits); it only defines the cases and imports no numba.cuda.
_spec = importlib.util.spec_from_file_location("cuda_sim_checks", HERE / "cuda_sim_checks.py")
cuda_sim_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cuda_sim_checks)


def _env(**extra):
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_env(**env), cwd=ROOT
    )


@pytest.fixture(scope="module")
def sim_results():
    """What tests/cuda_sim_checks.py found; tests/conftest.py starts it when the tests are
    collected, so it runs beside the rest of the suite."""
    returncode, stdout, stderr = cuda_simulator_output()
    assert returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(cuda_sim_checks.CASES))
def test_kernel_matches_cpu_under_simulator(sim_results, name):
    result = sim_results[name]
    assert not isinstance(result, str), result
    err, tol, _seconds = result
    assert err <= tol, f"{name}: relative error {err:.3g} > {tol:g}"


def test_every_public_gpu_function_is_checked():
    import dlbook.cuda as dc

    public = {name for names in dc._LAZY.values() for name in names}
    assert public == cuda_sim_checks.COVERED


def test_import_dlbook_never_imports_numba_cuda():
    code = (
        "import sys, dlbook, dlbook.cuda, dlbook.activations, dlbook.conv, dlbook.pooling, dlbook.rnn, dlbook.layers, dlbook.models\n"
        "import numpy as np\n"
        "dlbook.activations.sigmoid(np.ones(3)); dlbook.cuda.on_device(np.ones(3))\n"
        "print('numba.cuda' in sys.modules)"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_no_numba_cuda_gives_one_clear_error():
    # numba-cuda missing (or broken): dlbook imports, the CPU path works, the GPU path says why.
    code = (
        "import sys; sys.modules['numba.cuda'] = None\n"
        "import numpy as np, dlbook, dlbook.activations, dlbook.conv, dlbook.cuda as dc\n"
        "assert dlbook.activations.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]\n"
        "assert dc.is_available() is False\n"
        "try:\n"
        "    dc.to_device(np.ones(3))\n"
        "except dc.CudaUnavailableError as e:\n"
        "    print(e)\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    msg = proc.stdout
    assert "numba.cuda cannot be imported" in msg and "numba-cuda[cu12]" in msg and "NumPy arrays" in msg


def test_no_gpu_gives_one_clear_error():
    import dlbook.cuda as dc

    if dc.is_available():
        pytest.skip("a real GPU is present")
    with pytest.raises(dc.CudaUnavailableError, match=r"not usable here.*numba-cuda\[cu12\]"):
        dc.to_device(np.ones(3))
    with pytest.raises(dc.CudaUnavailableError):
        dc.conv2d  # noqa: B018 - attribute access loads the kernels, which needs CUDA


class _FakeDeviceArray:
    """Looks like a GPU array (has the CUDA Array Interface) without any GPU."""

    shape = (2, 3)
    dtype = np.dtype(np.float32)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": "<f4", "data": (0, False), "version": 3}


def test_device_array_without_gpu_gives_the_same_clear_error():
    import dlbook.activations
    import dlbook.cuda as dc

    if dc.is_available():
        pytest.skip("a real GPU is present")
    with pytest.raises(dc.CudaUnavailableError, match="numba-cuda"):
        dlbook.activations.sigmoid(_FakeDeviceArray())


def test_device_array_detection():
    from dlbook.cuda import is_device_array, on_device

    assert not is_device_array(np.ones(3)) and not is_device_array([1.0]) and not is_device_array(None)
    assert is_device_array(_FakeDeviceArray())
    assert on_device(np.ones(2), _FakeDeviceArray()) and not on_device(np.ones(2), 3.0)
    sim_like = types.SimpleNamespace(__cuda_ndarray__=True)
    assert is_device_array(sim_like)


def test_simulator_is_not_a_gpu():
    proc = _python("import dlbook.cuda as dc; print(dc.is_available(), dc.simulator_enabled())", NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


def test_row_stack_restored_only_when_missing():
    from dlbook.cuda import _ensure_numpy_row_stack

    def marker(*a):
        return "mine"

    has = types.SimpleNamespace(vstack=np.vstack, row_stack=marker)
    assert _ensure_numpy_row_stack(has) is False and has.row_stack is marker
    lacks = types.SimpleNamespace(vstack=np.vstack)  # NumPy >= 2.5
    assert _ensure_numpy_row_stack(lacks) is True and lacks.row_stack is np.vstack
    # And with the real NumPy stripped of it, numba.cuda still gets it before its first compile.
    code = (
        "import numpy as np\n"
        "if hasattr(np, 'row_stack'): del np.row_stack\n"
        "import dlbook.cuda as dc\n"
        "y = dc.to_host(dc.sigmoid(dc.to_device(np.zeros(5))))\n"
        "print(hasattr(np, 'row_stack'), y.tolist())"
    )
    proc = _python(code, NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "True" and "0.5" in proc.stdout
