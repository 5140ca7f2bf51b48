"""The generated Janus config folder: locked down, complete, and only what Parley uses."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from parley.config import JanusConfig
from parley.errors import ConfigError
from parley.media.janus.config import (
    JanusCredentials,
    JanusOptions,
    render_config,
    render_jcfg,
    split_port_range,
    write_config,
)

pytestmark = pytest.mark.unit

CREDS = JanusCredentials(api_secret="api-s", admin_secret="admin-s", admin_key="key-k")


def parse_jcfg(text: str) -> dict[str, dict[str, str]]:
    """A tiny reader for what `render_jcfg` writes: section -> key -> raw value text."""
    doc: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith(": {"):
            section = doc.setdefault(line[:-3], {})
        elif line == "}":
            section = None
        else:
            assert section is not None, line
            key, _, value = line.partition(" = ")
            section[key] = value
    return doc


def render(cfg: JanusConfig = JanusConfig(), **options: object) -> dict[str, dict[str, dict[str, str]]]:
    files = render_config(cfg, root=Path("/srv/janus"), credentials=CREDS, options=JanusOptions(**options))  # type: ignore[arg-type]
    return {name: parse_jcfg(text) for name, text in files.items()}


def test_only_the_core_two_transports_and_parleys_plugins_are_written() -> None:
    assert sorted(render()) == [
        "janus.jcfg",
        "janus.plugin.audiobridge.jcfg",
        "janus.plugin.streaming.jcfg",
        "janus.plugin.textroom.jcfg",
        "janus.plugin.videoroom.jcfg",
        "janus.transport.http.jcfg",
        "janus.transport.websockets.jcfg",
    ]


def test_core_authentication_and_folders() -> None:
    general = render()["janus.jcfg"]["general"]
    assert general["token_auth"] == "true"
    assert "token_auth_secret" not in general  # stored tokens, added through the Admin API
    assert general["api_secret"] == '"api-s"'
    assert general["admin_secret"] == '"admin-s"'
    assert general["configs_folder"] == '"/srv/janus/conf"'
    assert general["plugins_folder"] == '"/srv/janus/modules/plugins"'
    assert general["transports_folder"] == '"/srv/janus/modules/transports"'
    assert general["events_folder"] == '"/srv/janus/modules/events"'
    assert general["loggers_folder"] == '"/srv/janus/modules/loggers"'


def test_core_media_nat_and_event_handlers() -> None:
    core = render(JanusConfig(rtp_port_min=30000, rtp_port_max=30999, ice_enforce_list="jx0"))["janus.jcfg"]
    assert core["media"]["rtp_port_range"] == '"30000-30749"'
    assert core["nat"]["ignore_mdns"] == "true"
    assert core["nat"]["ice_enforce_list"] == '"jx0"'
    assert core["events"]["broadcast"] == "false"


def test_without_enforce_list_the_default_ignore_list_stays() -> None:
    nat = render()["janus.jcfg"]["nat"]
    assert "ice_enforce_list" not in nat
    assert nat["ice_ignore_list"] == '"vmnet"'


def test_a_public_address_behind_1_1_nat_is_advertised() -> None:
    nat = render(JanusConfig(nat_1_1_mapping="203.0.113.7", keep_private_host=True))["janus.jcfg"]["nat"]
    assert nat["nat_1_1_mapping"] == '"203.0.113.7"'
    assert nat["keep_private_host"] == "true"
    several = render(JanusConfig(nat_1_1_mapping=" 203.0.113.7, 2001:db8::7 "))["janus.jcfg"]["nat"]
    assert several["nat_1_1_mapping"] == '"203.0.113.7,2001:db8::7"'
    assert several["keep_private_host"] == "false"


def test_without_a_mapping_janus_advertises_its_own_addresses() -> None:
    nat = render()["janus.jcfg"]["nat"]
    assert "nat_1_1_mapping" not in nat and "keep_private_host" not in nat


def test_a_mapping_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ConfigError) as refused:
        render(JanusConfig(nat_1_1_mapping="203.0.113.7,janus.example.org"))
    assert refused.value.key == "janus.nat_1_1_mapping"


def test_transports_bind_the_configured_host_only() -> None:
    files = render(JanusConfig(bind_host="127.0.0.5", http_port=9000, ws_port=9001, admin_port=9002))
    http = files["janus.transport.http.jcfg"]
    assert http["general"]["ip"] == '"127.0.0.5"'
    assert http["general"]["port"] == "9000"
    assert http["general"]["https"] == "false"
    assert http["general"]["base_path"] == '"/janus"'
    assert http["admin"]["admin_http"] == "true"
    assert http["admin"]["admin_ip"] == '"127.0.0.5"'
    assert http["admin"]["admin_port"] == "9002"
    ws = files["janus.transport.websockets.jcfg"]
    assert ws["general"]["ws_ip"] == '"127.0.0.5"'
    assert ws["general"]["ws_port"] == "9001"
    assert ws["general"]["wss"] == "false"
    assert ws["admin"]["admin_ws"] == "false"


def test_by_default_browsers_reach_janus_only_through_parleys_proxy() -> None:
    """Janus's API ports listen on loopback only; browsers get the /ws/janus proxy path."""
    from parley.media.janus.service import ice_servers

    files = render(JanusConfig())
    assert files["janus.transport.http.jcfg"]["general"]["ip"] == '"127.0.0.1"'
    assert files["janus.transport.http.jcfg"]["admin"]["admin_ip"] == '"127.0.0.1"'
    assert files["janus.transport.websockets.jcfg"]["general"]["ws_ip"] == '"127.0.0.1"'
    assert JanusConfig().browser_ws_url == "" and ice_servers(JanusConfig()) == []


def test_every_plugin_has_the_admin_key_and_no_rooms() -> None:
    files = render()
    for name in ("videoroom", "audiobridge", "streaming", "textroom"):
        doc = files[f"janus.plugin.{name}.jcfg"]
        assert list(doc) == ["general"], f"{name} must define no demo rooms or mountpoints"
        assert doc["general"]["admin_key"] == '"key-k"'
        assert doc["general"]["events"] == "false"
    assert files["janus.plugin.videoroom.jcfg"]["general"]["lock_rtp_forward"] == "true"
    assert files["janus.plugin.audiobridge.jcfg"]["general"]["lock_rtp_forward"] == "true"
    assert files["janus.plugin.audiobridge.jcfg"]["general"]["lock_play_file"] == "true"


def test_plugin_plain_rtp_ports_do_not_overlap_ice_ports() -> None:
    cfg = JanusConfig(rtp_port_min=20000, rtp_port_max=20999)
    (ice_lo, ice_hi), (plug_lo, plug_hi) = split_port_range(cfg, 0.75)
    assert (ice_lo, plug_hi) == (20000, 20999)
    assert ice_hi + 1 == plug_lo
    files = render(cfg)
    assert files["janus.plugin.streaming.jcfg"]["general"]["rtp_port_range"] == f'"{plug_lo}-{plug_hi}"'
    assert files["janus.plugin.audiobridge.jcfg"]["general"]["rtp_port_range"] == f'"{plug_lo}-{plug_hi}"'


def test_plugin_subset() -> None:
    files = render(plugins=("videoroom", "textroom"))
    assert "janus.plugin.streaming.jcfg" not in files
    assert "janus.plugin.videoroom.jcfg" in files


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"http_port": 0}, "janus.http_port"),
        ({"ws_port": 8088}, "janus.http_port"),
        ({"rtp_port_min": 20000, "rtp_port_max": 20003}, "janus.rtp_port_max"),
        ({"http_port": 20010}, "janus.http_port"),
        ({"bind_host": "localhost"}, "janus.bind_host"),
        ({"api_secret": 'line\nbreak'}, "general.api_secret"),
    ],
)
def test_invalid_values_name_their_key(changes: dict[str, object], key: str) -> None:
    cfg = JanusConfig(**changes)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        render_config(cfg, root=Path("/x"), credentials=JanusCredentials.resolve(cfg))
    assert caught.value.key == key


def test_unknown_plugin_is_refused() -> None:
    with pytest.raises(ConfigError):
        render(plugins=("videoroom", "sip"))


def test_strings_are_escaped() -> None:
    text = render_jcfg({"general": {"admin_key": 'a"b\\c'}})
    assert 'admin_key = "a\\"b\\\\c"' in text


def test_empty_secrets_become_random_and_given_ones_are_kept() -> None:
    generated = JanusCredentials.resolve(JanusConfig())
    again = JanusCredentials.resolve(JanusConfig())
    assert len(generated.api_secret) >= 32 and generated.api_secret != again.api_secret
    assert len({generated.api_secret, generated.admin_secret, generated.admin_key}) == 3
    kept = JanusCredentials.resolve(JanusConfig(api_secret="s-api", admin_secret="s-admin", admin_key="s-key"))
    assert (kept.api_secret, kept.admin_secret, kept.admin_key) == ("s-api", "s-admin", "s-key")
    assert "s-" not in repr(kept)


def _fake_modules(tmp_path: Path) -> Path:
    modules = tmp_path / "system-janus"
    for kind, names in {
        "plugins": ["videoroom", "audiobridge", "streaming", "textroom", "echotest", "sip"],
        "transports": ["http", "websockets", "mqtt", "rabbitmq", "nanomsg", "pfunix"],
        "events": ["sampleevh", "mqttevh"],
        "loggers": ["jsonlog"],
    }.items():
        (modules / kind).mkdir(parents=True)
        for name in names:
            (modules / kind / f"libjanus_{name}.so").write_bytes(b"")
    return modules


def test_write_config_links_only_allowed_modules_and_protects_secrets(tmp_path: Path) -> None:
    modules = _fake_modules(tmp_path)
    cfg = JanusConfig(http_port=9088, ws_port=9188, admin_port=9288)

    generated = write_config(cfg, tmp_path / "work", credentials=CREDS, options=JanusOptions(module_dir=modules))

    linked = {p.parent.name + "/" + p.name for p in (tmp_path / "work" / "modules").rglob("*.so")}
    assert linked == {
        "plugins/libjanus_videoroom.so", "plugins/libjanus_audiobridge.so", "plugins/libjanus_streaming.so",
        "plugins/libjanus_textroom.so", "transports/libjanus_http.so", "transports/libjanus_websockets.so",
    }
    assert (tmp_path / "work" / "modules" / "events").is_dir()
    assert not any((tmp_path / "work" / "modules" / "events").iterdir())
    for path in generated.conf_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert generated.http_url == "http://127.0.0.1:9088/janus"
    assert generated.ws_url == "ws://127.0.0.1:9188"
    assert generated.admin_url == "http://127.0.0.1:9288/admin"
    assert generated.credentials is CREDS
    command = generated.command("janus")
    assert command[:5] == ["janus", "-F", str(generated.conf_dir), "-C", str(generated.config_file)]
    assert {"-o", "-N"} <= set(command) and command[command.index("-L") + 1] == str(generated.log_file)


def test_write_config_replaces_a_previous_folder(tmp_path: Path) -> None:
    modules = _fake_modules(tmp_path)
    options = JanusOptions(module_dir=modules)
    write_config(JanusConfig(), tmp_path / "work", credentials=CREDS, options=options)
    (tmp_path / "work" / "conf" / "janus.plugin.sip.jcfg").write_text("stale")

    write_config(JanusConfig(), tmp_path / "work", credentials=CREDS,
                 options=JanusOptions(module_dir=modules, plugins=("videoroom",)))

    names = sorted(p.name for p in (tmp_path / "work" / "conf").iterdir())
    assert names == ["janus.jcfg", "janus.plugin.videoroom.jcfg", "janus.transport.http.jcfg",
                     "janus.transport.websockets.jcfg"]
    assert [p.name for p in (tmp_path / "work" / "modules" / "plugins").iterdir()] == ["libjanus_videoroom.so"]


def test_missing_module_is_a_config_error(tmp_path: Path) -> None:
    modules = _fake_modules(tmp_path)
    (modules / "plugins" / "libjanus_textroom.so").unlink()
    with pytest.raises(ConfigError, match="textroom"):
        write_config(JanusConfig(), tmp_path / "work", credentials=CREDS, options=JanusOptions(module_dir=modules))


def test_wildcard_bind_is_dialled_on_loopback() -> None:
    files = render_config(JanusConfig(bind_host="0.0.0.0"), root=Path("/x"), credentials=CREDS)
    assert 'ip = "0.0.0.0"' in files["janus.transport.http.jcfg"]
    assert "local_ip" not in files["janus.plugin.audiobridge.jcfg"]
    assert re.search(r'local_ip = "127\.0\.0\.1"',
                     render_config(JanusConfig(), root=Path("/x"), credentials=CREDS)["janus.plugin.audiobridge.jcfg"])
