import asyncio

import pytest

from parley.bus.local import LocalBus

pytestmark = pytest.mark.unit


async def test_subscribers_get_events_for_their_topics_only() -> None:
    bus = LocalBus()
    a = await bus.subscribe(["channel:1"])
    b = await bus.subscribe(["channel:2"])
    await bus.publish("channel:1", {"n": 1})
    await bus.publish("channel:2", {"n": 2})
    assert await asyncio.wait_for(a.get(), 1) == ("channel:1", {"n": 1})
    assert await asyncio.wait_for(b.get(), 1) == ("channel:2", {"n": 2})
    await a.close()
    await b.close()


async def test_slow_subscriber_drops_oldest_and_counts() -> None:
    bus = LocalBus()
    sub = await bus.subscribe(["t"], maxsize=2)
    for i in range(5):
        await bus.publish("t", {"i": i})
    assert sub.dropped == 3
    assert (await sub.get())[1] == {"i": 3}
    await sub.close()


async def test_closed_subscription_ends_iteration() -> None:
    bus = LocalBus()
    sub = await bus.subscribe(["t"])
    await sub.close()
    with pytest.raises(StopAsyncIteration):
        await sub.get()
