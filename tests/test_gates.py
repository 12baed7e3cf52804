"""dlbook.gates against truth tables and the course's code (book page: docs/02-networks/perceptron.md)."""

import itertools

import numpy as np
import pytest

from dlbook import gates
from dlbook.gates import AND, GATE_PARAMS, NAND, OR, XOR, perceptron

INPUTS = [(0, 0), (0, 1), (1, 0), (1, 1)]
TRUTH = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
}
GATES = {"AND": AND, "OR": OR, "NAND": NAND, "XOR": XOR}


def _course_gate(w1, w2, theta):
    """The course's code, verbatim in logic: 0 when the weighted sum is <= theta."""

    def gate(x1, x2):
        tmp = x1 * w1 + x2 * w2
        if tmp <= theta:
            return 0
        return 1

    return gate


def test_gate_params_are_the_courses():
    assert GATE_PARAMS["AND"] == (0.5, 0.5, 0.7)
    assert GATE_PARAMS["OR"] == (0.5, 0.5, 0.2)
    w1, w2, theta = GATE_PARAMS["NAND"]
    assert (w1, w2, theta) == (-0.5, -0.5, -0.7)


@pytest.mark.parametrize("name", list(TRUTH))
def test_truth_table_on_scalars(name):
    got = [GATES[name](a, b) for a, b in INPUTS]
    assert got == TRUTH[name]
    assert all(type(v) is int for v in got)


@pytest.mark.parametrize("name", ["AND", "OR", "NAND"])
def test_single_perceptron_gates_match_the_course_code(name):
    course = _course_gate(*GATE_PARAMS[name])
    for a, b in INPUTS:
        assert GATES[name](a, b) == course(a, b)


def test_xor_is_the_courses_two_layer_network():
    course_and, course_or = _course_gate(0.5, 0.5, 0.7), _course_gate(0.5, 0.5, 0.2)

    def course_xor(x1, x2):
        s1 = not course_and(x1, x2)  # NAND
        s2 = course_or(x1, x2)
        return course_and(s1, s2)

    for a, b in INPUTS:
        assert XOR(a, b) == course_xor(a, b) == (a != b)
        assert XOR(a, b) == AND(NAND(a, b), OR(a, b))


@pytest.mark.parametrize("name", list(TRUTH))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64, bool])
def test_elementwise_on_arrays(name, dtype):
    x1 = np.array([0, 0, 1, 1], dtype=dtype)
    x2 = np.array([0, 1, 0, 1], dtype=dtype)
    out = GATES[name](x1, x2)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (4,)
    np.testing.assert_array_equal(out, TRUTH[name])


@pytest.mark.parametrize("name", list(TRUTH))
def test_broadcasting_builds_the_table(name):
    out = GATES[name](np.array([[0], [1]]), np.array([0, 1]))  # rows x1, columns x2
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out.ravel(), TRUTH[name])
    np.testing.assert_array_equal(GATES[name]([0, 1], 1), [TRUTH[name][1], TRUTH[name][3]])


def test_perceptron_matches_the_plain_formula_on_random_input():
    rng = np.random.default_rng(0)
    for shape in [(1,), (5,), (3, 7), (2, 3, 4)]:
        x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
        w1, w2, theta = rng.standard_normal(3)
        out = perceptron(x1, x2, w1, w2, theta)
        np.testing.assert_array_equal(out, (w1 * x1 + w2 * x2 > theta).astype(np.int64))
        assert out.shape == shape
        out32 = perceptron(x1.astype(np.float32), x2.astype(np.float32), w1, w2, theta)
        np.testing.assert_array_equal(out32, (w1 * x1.astype(np.float32) + w2 * x2.astype(np.float32) > theta))


def test_perceptron_fires_only_strictly_above_threshold():
    assert perceptron(1, 1, 0.5, 0.5, 1.0) == 0  # sum == theta: does not fire (course: tmp <= theta -> 0)
    assert perceptron(1, 1, 0.5, 0.5, 0.999) == 1


def test_no_single_perceptron_computes_xor():
    """XOR is not linearly separable: no (w1, w2, theta) on a fine grid works, while AND/OR/NAND do."""
    grid = np.linspace(-1, 1, 41)
    w1, w2, theta = (g.reshape(-1) for g in np.meshgrid(grid, grid, grid, indexing="ij"))
    found = {}
    for name in TRUTH:
        ok = np.ones(w1.shape, dtype=bool)
        for (a, b), want in zip(INPUTS, TRUTH[name]):
            ok &= (w1 * a + w2 * b > theta) == bool(want)
        found[name] = int(ok.sum())
    assert found["XOR"] == 0
    assert found["AND"] > 0 and found["OR"] > 0 and found["NAND"] > 0


def test_xor_matches_bitwise_xor():
    pairs = np.array(list(itertools.product([0, 1], repeat=2)))
    np.testing.assert_array_equal(XOR(pairs[:, 0], pairs[:, 1]), pairs[:, 0] ^ pairs[:, 1])


@pytest.mark.parametrize("name", list(TRUTH))
@pytest.mark.parametrize(
    "bad",
    [("a", 1), (np.array(["0", "1"]), 1), (np.array([0, 1], dtype=object), 1), (1j, 0), ([0, [1, 0]], 1), (None, 1)],
    ids=["string", "string array", "object array", "complex", "ragged", "None"],
)
def test_non_numeric_input_raises_value_error(name, bad):
    with pytest.raises(ValueError):
        GATES[name](*bad)
    with pytest.raises(ValueError):
        GATES[name](*bad[::-1])


def test_shapes_that_do_not_broadcast_raise_value_error():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        AND(np.zeros(2), np.zeros(3))


def test_module_points_at_its_page():
    assert "docs/02-networks/perceptron.md" in gates.__doc__
