"""State records: status lists store updates in layers and fold them without losing any."""

from __future__ import annotations

import random

from registry.ledger.state import _MAX_LAYERS, StatusListRecord


def test_status_list_layers_fold_and_agree_with_a_plain_dict() -> None:
    rng = random.Random(7)
    record = StatusListRecord("x.list", "did:keten:x", 2, 4096, (), 0, 0, 0)
    expected: dict[int, int] = {}
    for step in range(5 * _MAX_LAYERS):
        indices = rng.sample(range(4096), rng.randint(1, 20))
        value = rng.choice([0, 1, 2, 3])
        record = record.with_values(indices, value, step, step)
        for index in indices:
            expected[index] = value
        assert len(record.layers) <= _MAX_LAYERS
    nonzero = {i: v for i, v in expected.items() if v}
    assert dict(record.values) == dict(sorted(nonzero.items()))
    assert all(record.get(i) == expected.get(i, 0) for i in range(4096))
    assert list(record.values) == sorted(nonzero)  # by index


def test_an_update_does_not_change_the_record_it_came_from() -> None:
    base = StatusListRecord("x.list", "did:keten:x", 1, 64, (), 0, 0, 0)
    one = base.with_values([3], 1, 1, 1)
    two = one.with_values([3], 0, 2, 2)
    assert (dict(base.values), dict(one.values), dict(two.values)) == ({}, {3: 1}, {})
