"""numerical_diff / numerical_gradient / rel_error: the course numbers, any shape, x restored."""

import numpy as np
import pytest

from dlbook.gradcheck import numerical_diff, numerical_gradient, rel_error


def test_numerical_diff_course_example():
    f = lambda x: x**2 + 1
    assert numerical_diff(f, 1.0) == pytest.approx(2.0, abs=1e-8)
    assert numerical_diff(f, 2.0) == pytest.approx(4.0, abs=1e-8)


def test_partial_derivatives_course_example():
    f = lambda v: v[0] ** 2 + 3 * v[0] * v[1] + v[1] ** 2 + v[2] ** 3
    x, y, z = 1.0, 2.0, 3.0
    g = numerical_gradient(f, np.array([x, y, z]))
    np.testing.assert_allclose(g, [2 * x + 3 * y, 3 * x + 2 * y, 3 * z**2], rtol=1e-8)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3)])
def test_numerical_gradient_any_shape_and_restores_x(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x0 = x.copy()
    g = numerical_gradient(lambda a: np.sum(np.sin(a) * a), x)
    assert g.shape == x.shape
    assert np.array_equal(x, x0)  # bit-for-bit restored
    assert rel_error(g, np.cos(x) * x + np.sin(x)) < 1e-8


def test_numerical_gradient_on_non_contiguous_view():
    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]
    g = numerical_gradient(lambda a: np.sum(a**2), view)
    np.testing.assert_allclose(g, 2 * view, rtol=1e-8)
    assert np.array_equal(base, np.arange(12.0).reshape(3, 4))


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(a):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert np.array_equal(x, [1.0, 2.0])


def test_rel_error_definition_and_can_fail():
    a = np.array([1.0, 2.0, 0.0])
    b = np.array([1.0, 2.2, 0.0])
    assert rel_error(a, b) == pytest.approx(0.2 / 4.2)
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(2), np.array([1e-9, 0])) == pytest.approx(1e-9 / 1e-8)
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_bad_input():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda a: a * 2, np.ones(3))
    with pytest.raises(ValueError, match="positive step"):
        numerical_diff(lambda x: x, 1.0, h=0)
