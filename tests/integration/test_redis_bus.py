import asyncio
import os

import pytest

from parley.bus.redis import RedisBus

pytestmark = pytest.mark.integration

REDIS = os.environ.get("PARLEY_TEST_REDIS_URL") or os.environ.get("PARLEY_REDIS_TEST_FALLBACK", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def buses():  # type: ignore[no-untyped-def]
    one, two = RedisBus(REDIS, prefix="parley-test:"), RedisBus(REDIS, prefix="parley-test:")
    try:
        await one.start()
        await two.start()
    except Exception as exc:
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    yield one, two
    await one.stop()
    await two.stop()


async def test_event_published_on_one_bus_reaches_a_subscriber_on_another(buses) -> None:  # type: ignore[no-untyped-def]
    one, two = buses
    sub = await two.subscribe(["channel:7"])
    await asyncio.sleep(0.05)
    await one.publish("channel:7", {"kind": "message", "id": 1})
    topic, event = await asyncio.wait_for(sub.get(), 5)
    assert (topic, event) == ("channel:7", {"kind": "message", "id": 1})
    await sub.close()


async def test_unsubscribed_topics_are_not_delivered(buses) -> None:  # type: ignore[no-untyped-def]
    one, two = buses
    sub = await two.subscribe(["a"])
    await sub.remove("a")
    await sub.add("b")
    await asyncio.sleep(0.05)
    await one.publish("a", {"x": 1})
    await one.publish("b", {"x": 2})
    assert await asyncio.wait_for(sub.get(), 5) == ("b", {"x": 2})
    await sub.close()
