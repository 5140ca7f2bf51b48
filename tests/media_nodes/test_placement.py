"""Placement: which media node takes a new meeting, from capacity and reported load."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parley.media.placement import NodeLoad, NoMediaNode, PlacementPolicy
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit

POLICY = PlacementPolicy(stale_after=30, max_cpu=0.9)


def node(node_id: int, clock: FakeClock, **fields: object) -> NodeLoad:
    values: dict[str, object] = {"id": node_id, "name": f"node-{node_id}", "state": "active",
                                 "last_seen": clock.now(), "max_rooms": 10, "max_participants": 100}
    values.update(fields)
    return NodeLoad(**values)  # type: ignore[arg-type]


def test_a_new_meeting_goes_to_the_least_loaded_node() -> None:
    clock = FakeClock()
    nodes = [node(1, clock, rooms=5), node(2, clock, rooms=2), node(3, clock, rooms=4)]
    assert POLICY.choose(nodes, clock.now()).id == 2


def test_every_kind_of_load_counts_the_busiest_one_decides() -> None:
    clock = FakeClock()
    few_rooms_but_crowded = node(1, clock, rooms=1, participants=80)
    more_rooms_fewer_people = node(2, clock, rooms=4, participants=20)
    hot_cpu = node(3, clock, rooms=0, participants=0, cpu_load=0.8)
    assert POLICY.choose([few_rooms_but_crowded, more_rooms_fewer_people, hot_cpu], clock.now()).id == 2


def test_meetings_placed_count_before_the_node_reports_them() -> None:
    clock = FakeClock()
    reported_empty_but_just_given_three = node(1, clock, rooms=0, placed=3)
    assert POLICY.choose([reported_empty_but_just_given_three, node(2, clock, rooms=1)], clock.now()).id == 2


def test_ties_break_by_name_then_id_whatever_the_order() -> None:
    clock = FakeClock()
    nodes = [node(7, clock, name="b"), node(3, clock, name="a"), node(5, clock, name="a")]
    assert POLICY.choose(nodes, clock.now()).id == 3
    assert POLICY.choose(list(reversed(nodes)), clock.now()).id == 3


def test_filling_spreads_meetings_evenly_and_stops_at_capacity() -> None:
    clock = FakeClock()
    nodes = [node(1, clock, max_rooms=2), node(2, clock, max_rooms=3)]
    chosen = [n.id for n in POLICY.plan(nodes, 10, clock.now())]
    assert chosen == [1, 2, 2, 1, 2]  # by share of capacity: 0/2 0/3 | 1/3 | 1/2 2/3 | 2/3 ...
    assert len(chosen) == 5


def test_a_full_node_takes_nothing_and_all_full_is_a_clear_error() -> None:
    clock = FakeClock()
    full_rooms = node(1, clock, rooms=10)
    full_people = node(2, clock, participants=100)
    assert POLICY.why_not(full_rooms, clock.now()) == "rooms_full"
    assert POLICY.why_not(full_people, clock.now()) == "participants_full"
    with pytest.raises(NoMediaNode) as caught:
        POLICY.choose([full_rooms, full_people], clock.now())
    assert caught.value.code == "no_media_node" and caught.value.status == 503


def test_the_expected_size_of_a_meeting_must_fit() -> None:
    clock = FakeClock()
    policy = replace(POLICY, participants_per_meeting=8)
    nearly_full = node(1, clock, participants=95)
    assert policy.why_not(nearly_full, clock.now()) == "participants_full"
    assert policy.choose([nearly_full, node(2, clock, participants=50)], clock.now()).id == 2


def test_draining_and_removed_nodes_take_no_new_meeting() -> None:
    clock = FakeClock()
    draining = node(1, clock, state="draining")
    removed = node(2, clock, state="removed")
    busy_active = node(3, clock, rooms=9)
    assert POLICY.choose([draining, removed, busy_active], clock.now()).id == 3
    with pytest.raises(NoMediaNode):
        POLICY.choose([draining, removed], clock.now())


def test_a_node_not_heard_from_lately_is_skipped() -> None:
    clock = FakeClock()
    quiet = node(1, clock)
    never_seen = node(2, clock, last_seen=None)
    clock.advance(29)
    fresh = node(3, clock, rooms=8)
    assert POLICY.choose([quiet, never_seen, fresh], clock.now()).id == 1
    clock.advance(2)  # node 1 last reported 31 s ago
    assert POLICY.why_not(quiet, clock.now()) == "stale"
    assert POLICY.why_not(never_seen, clock.now()) == "stale"
    assert POLICY.choose([quiet, never_seen, fresh], clock.now()).id == 3


def test_a_busy_cpu_is_avoided_but_a_lone_busy_node_still_serves() -> None:
    clock = FakeClock()
    busy = node(1, clock, cpu_load=0.95)
    assert POLICY.why_not(busy, clock.now()) == "cpu_busy"
    assert POLICY.choose([busy, node(2, clock, rooms=9)], clock.now()).id == 2
    assert POLICY.choose([busy], clock.now()).id == 1


def test_when_a_node_dies_its_meetings_spread_over_the_others() -> None:
    clock = FakeClock()
    dead = node(1, clock, placed=4)
    nodes = [dead, node(2, clock, placed=1), node(3, clock, placed=2), node(4, clock, state="draining")]
    targets = [n.id for n in POLICY.plan(nodes, 4, clock.now(), exclude={dead.id})]
    assert targets == [2, 2, 3, 2]
    assert dead.id not in targets and 4 not in targets
