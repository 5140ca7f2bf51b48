import pytest

from parley.config import Config
from parley.errors import ConfigError

pytestmark = pytest.mark.unit


def test_environment_overrides_defaults() -> None:
    config = Config.load(env={"PARLEY_SERVER_PORT": "9001", "PARLEY_I18N_LOCALES": "en,fr"})
    assert config.server.port == 9001
    assert config.i18n.locales == ("en", "fr")


def test_short_forms_set_database_and_bus() -> None:
    config = Config.load(env={"PARLEY_DATABASE_URL": "postgresql://db/parley", "PARLEY_REDIS_URL": "redis://r"})
    assert config.database_url == "postgresql://db/parley"
    assert config.bus.redis_url == "redis://r"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"PARLEY_SERVER_PORT": "eighty"}, "server.port"),
        ({"PARLEY_SERVER_PORT": "70000"}, "server.port"),
        ({"PARLEY_JANUS_ENABLED": "maybe"}, "janus.enabled"),
        ({"PARLEY_DATABASE_URL": "mysql://x"}, "database.url"),
        ({"PARLEY_I18N_DEFAULT_LOCALE": "de"}, "i18n.default_locale"),
    ],
)
def test_errors_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        Config.load(env=env)
    assert err.value.key == key
    assert key in str(err.value)


def test_unknown_key_in_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "parley.toml"
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="server.prot: unknown key"):
        Config.load(env={"PARLEY_CONFIG": str(path)})


def test_secrets_are_hidden() -> None:
    config = Config.load(env={"PARLEY_DATABASE_URL": "postgresql://u:pw@h/db"})
    assert "pw" not in repr(config)
    assert config.redacted()["database"]["url"] == "***"


def test_a_web_process_of_a_larger_deployment_runs_no_worker_of_its_own() -> None:
    from parley.server import Server

    config = Config.load(env={"PARLEY_INTERPRETATION_RUN_WORKERS": "false", "PARLEY_JANUS_ENABLED": "false"})
    assert config.interpretation.enabled and not config.interpretation.run_workers
    assert Server(config).interpretation_workers is None
