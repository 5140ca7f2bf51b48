"""The ``media`` config section: media node settings from the environment, checked at load."""

from __future__ import annotations

import pytest

from parley.config import Config
from parley.errors import ConfigError

pytestmark = pytest.mark.unit


def test_a_media_node_is_configured_from_the_environment() -> None:
    media = Config.load(env={"PARLEY_MEDIA_NODE_NAME": "media-2", "PARLEY_MEDIA_ADVERTISE": "10.0.0.12",
                             "PARLEY_MEDIA_MAX_ROOMS": "200", "PARLEY_MEDIA_HEARTBEAT_SECONDS": "2"}).media
    assert (media.node_name, media.advertise, media.max_rooms, media.heartbeat_seconds) == ("media-2", "10.0.0.12",
                                                                                           200, 2)
    assert (media.stale_seconds, media.lost_seconds, media.max_cpu_percent) == (30, 4, 90)


@pytest.mark.parametrize("key, value", [("max_rooms", "-1"), ("heartbeat_seconds", "0"), ("stale_seconds", "5"),
                                        ("max_cpu_percent", "0")])
def test_bad_media_settings_name_their_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.load(env={f"PARLEY_MEDIA_{key.upper()}": value})
    assert caught.value.key == f"media.{key}"
