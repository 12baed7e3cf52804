"""Mul/Add nodes: the course's apple and apple+orange numbers, node rules, dout untouched."""

import numpy as np
import pytest

from dlbook.graph import AddLayer, MulLayer


def test_apple_example():
    apple, n, tax = 10, 2, 1.1
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(apple, n), tax)
    assert price == pytest.approx(22)
    dapple_total, dtax = mul_tax.backward(1)
    dapple, dn = mul_apple.backward(dapple_total)
    assert (dapple, dn, dtax) == pytest.approx((2.2, 11, 20))


def test_apple_orange_example():
    apple, n_apple, orange, n_orange, tax = 10, 2, 15, 3, 1.1
    m_a, m_o, add, m_t = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    total = m_t.forward(add.forward(m_a.forward(apple, n_apple), m_o.forward(orange, n_orange)), tax)
    assert total == pytest.approx(71.5)
    dsum, dtax = m_t.backward(1)
    da, do = add.backward(dsum)
    dapple, dn_apple = m_a.backward(da)
    dorange, dn_orange = m_o.backward(do)
    assert (dapple, dn_apple, dorange, dn_orange, dtax) == pytest.approx((2.2, 11, 3.3, 16.5, 65))


def test_chain_rule_z_equals_t_squared():
    x, y = 1.5, 2.0
    add, sq = AddLayer(), MulLayer()
    t = add.forward(x, y)
    sq.forward(t, t)
    dt1, dt2 = sq.backward(1.0)
    dx, dy = add.backward(dt1 + dt2)
    assert dx == pytest.approx(2 * (x + y)) and dy == pytest.approx(2 * (x + y))


def test_arrays_and_dout_not_shared():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    add = AddLayer()
    add.forward(x, y)
    dout = np.array([1.0, -1.0])
    dx, dy = add.backward(dout)
    dx += 5
    assert np.array_equal(dout, [1.0, -1.0]) and np.array_equal(dy, [1.0, -1.0])
    mul = MulLayer()
    mul.forward(x, y)
    np.testing.assert_array_equal(mul.backward(dout)[0], dout * y)


def test_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        MulLayer().forward(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        AddLayer().forward(float("nan"), 1.0)
