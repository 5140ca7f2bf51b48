"""The jitter buffer puts packets back in order and gives up on missing ones."""

from __future__ import annotations

import pytest

from parley.interpretation.rtp import JitterBuffer, Lost, RtpPacket

pytestmark = pytest.mark.unit


def pkt(seq: int) -> RtpPacket:
    return RtpPacket(payload_type=111, sequence_number=seq & 0xFFFF, timestamp=(seq * 960) & 0xFFFFFFFF, ssrc=1,
                     payload=bytes([seq & 0xFF]))


def seqs(out: list[RtpPacket | Lost]) -> list[int | str]:
    return [f"lost{x.count}" if isinstance(x, Lost) else x.sequence_number for x in out]


def feed(jb: JitterBuffer, order: list[int], now: float = 0.0) -> list[int | str]:
    out: list[int | str] = []
    for s in order:
        out += seqs(jb.push(pkt(s), now))
    return out


def test_in_order_packets_pass_straight_through() -> None:
    assert feed(JitterBuffer(), [1, 2, 3, 4]) == [1, 2, 3, 4]


def test_reordered_packets_come_out_in_order() -> None:
    jb = JitterBuffer(max_delay=3)
    assert feed(jb, [10, 12, 11, 14, 13, 15]) == [10, 11, 12, 13, 14, 15]
    assert jb.stats.reordered == 2 and jb.stats.lost == 0


def test_a_gap_is_declared_lost_once_enough_newer_packets_wait() -> None:
    jb = JitterBuffer(max_delay=3)
    out = feed(jb, [1, 3, 4])
    assert out == [1]
    out = feed(jb, [5])
    assert out == ["lost1", 3, 4, 5]
    assert jb.stats.lost == 1
    # the lost packet turning up later is too late and dropped
    assert feed(jb, [2]) == [] and jb.stats.late == 1


def test_a_gap_is_released_by_time_when_no_more_packets_come() -> None:
    jb = JitterBuffer(max_delay=10, max_hold=0.1)
    assert seqs(jb.push(pkt(1), 0.0)) == [1]
    assert seqs(jb.push(pkt(3), 0.02)) == []
    assert seqs(jb.expire(0.05)) == []
    assert seqs(jb.expire(0.13)) == ["lost1", 3]


def test_duplicates_are_dropped() -> None:
    jb = JitterBuffer()
    assert feed(jb, [1, 1, 3, 3, 2]) == [1, 2, 3]
    # a copy of a packet already played out counts as late, a copy of a waiting one as duplicate
    assert (jb.stats.late, jb.stats.duplicates) == (1, 1)


def test_sequence_numbers_wrap_around() -> None:
    jb = JitterBuffer()
    assert feed(jb, [65534, 0, 65535, 1]) == [65534, 65535, 0, 1]
    assert jb.stats.lost == 0


def test_a_large_jump_is_a_restarted_sender_not_loss() -> None:
    jb = JitterBuffer(reset_gap=1000)
    assert feed(jb, [100, 101, 30000, 30001]) == [100, 101, 30000, 30001]
    assert jb.stats.lost == 0 and jb.stats.resets == 1


def test_capacity_bounds_what_is_held() -> None:
    jb = JitterBuffer(max_delay=100, capacity=4)
    out = feed(jb, [1, 3, 4, 5, 6, 7])
    assert out == [1, "lost1", 3, 4, 5, 6, 7]


def test_flush_releases_everything_in_order() -> None:
    jb = JitterBuffer(max_delay=50)
    feed(jb, [1, 4, 3])
    assert seqs(jb.flush()) == ["lost1", 3, 4]
