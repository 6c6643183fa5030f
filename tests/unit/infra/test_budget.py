"""Request budgets (SECURITY-TESTS 37): token buckets per client and overall on a fake clock."""

from __future__ import annotations

import pytest

from ssiwallet.infra.budget import Budget, Rate


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_refusal_with_the_wait() -> None:
    clock = Tick()
    budget = Budget(Rate(5, 20), clock=clock)
    assert [budget.take("a") for _ in range(20)] == [0.0] * 20
    assert budget.take("a") == pytest.approx(0.2)
    assert budget.take("a") == pytest.approx(0.2)  # a refusal takes nothing


def test_refill_at_the_rate_up_to_the_burst() -> None:
    clock = Tick()
    budget = Budget(Rate(5, 20), clock=clock)
    for _ in range(20):
        budget.take("a")
    clock.now += 0.5  # two and a half tokens
    assert budget.take("a") == 0.0
    assert budget.take("a") == 0.0
    assert budget.take("a") > 0
    clock.now += 3600  # never more than the burst
    assert sum(budget.take("a") == 0.0 for _ in range(25)) == 20


def test_clients_are_isolated() -> None:
    clock = Tick()
    budget = Budget(Rate(1, 3), clock=clock)
    for _ in range(3):
        assert budget.take("10.0.0.1") == 0.0
    assert budget.take("10.0.0.1") > 0
    assert budget.take("10.0.0.2") == 0.0


def test_the_overall_cap_binds_every_client() -> None:
    clock = Tick()
    budget = Budget(Rate(100, 100), Rate(2, 5), clock=clock)
    granted = [budget.take(f"10.0.0.{i}") for i in range(8)]
    assert granted[:5] == [0.0] * 5
    assert all(wait == pytest.approx(0.5) for wait in granted[5:])
    clock.now += 0.5
    assert budget.take("10.0.0.99") == 0.0
    assert budget.take("10.0.0.98") > 0


def test_a_refusal_by_the_overall_cap_costs_the_client_nothing() -> None:
    clock = Tick()
    budget = Budget(Rate(1, 2), Rate(1, 1), clock=clock)
    assert budget.take("a") == 0.0
    assert budget.take("b") > 0  # overall empty
    clock.now += 1
    assert budget.take("b") == 0.0
    clock.now += 1
    assert budget.take("b") == 0.0  # b still had its second token


def test_memory_is_bounded_and_idle_clients_are_forgotten() -> None:
    clock = Tick()
    budget = Budget(Rate(10, 20), clock=clock, max_clients=100)
    for i in range(10_000):
        budget.take(f"client-{i}")
        assert len(budget) <= 100
    clock.now += 2  # every bucket has refilled: nobody needs remembering
    budget.take("late")
    assert len(budget) == 1


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        Rate(0, 10)
    with pytest.raises(ValueError):
        Rate(1, 0.5)
    with pytest.raises(ValueError):
        Budget(Rate(1, 1), max_clients=0)
