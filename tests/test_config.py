"""Token and base URL resolution; the token never shows."""

from __future__ import annotations

import pickle

import pytest

from runcomfy_nb import config
from runcomfy_nb.errors import ConfigError

TOKEN = "rc-secret-TOKEN-1234567890"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*config.TOKEN_ENV_VARS, *config.BASE_ENV_VARS):
        monkeypatch.delenv(name, raising=False)
    config.clear_simulator()


@pytest.mark.parametrize("name", config.TOKEN_ENV_VARS)
def test_token_from_each_env_var(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, TOKEN)
    endpoint = config.resolve()
    assert endpoint.token.reveal() == TOKEN
    assert endpoint.base_url == config.DEFAULT_BASE_URL


def test_env_order_and_argument_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_TOKEN", "third")
    monkeypatch.setenv("RUNCOMFY_API_KEY", "second")
    assert config.resolve().token.reveal() == "second"
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "first")
    assert config.resolve().token.reveal() == "first"
    assert config.resolve(token="arg").token.reveal() == "arg"


def test_base_url_from_env_and_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_API_BASE", "https://model-api-int.runcomfy.net/")
    assert config.resolve(token="t").base_url == "https://model-api-int.runcomfy.net"
    assert config.resolve(token="t", base_url="http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"


def test_no_token_says_how_to_get_one_or_the_simulator() -> None:
    with pytest.raises(ConfigError) as caught:
        config.resolve()
    assert "RUNCOMFY_API_TOKEN" in str(caught.value) and "rc.sim.start()" in str(caught.value)


def test_simulator_is_default_only_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    assert not config.resolve().simulator
    config.set_simulator("http://127.0.0.1:5555")
    try:
        assert config.resolve().simulator and config.resolve().base_url == "http://127.0.0.1:5555"
        assert not config.resolve(token=TOKEN).simulator  # explicit arguments go where they say
    finally:
        config.clear_simulator()
    assert not config.resolve().simulator


def test_secret_never_prints() -> None:
    secret = config.Secret(TOKEN)
    endpoint = config.Endpoint("https://x", secret)
    for text in (repr(secret), str(secret), f"{secret}", repr(endpoint), str(endpoint), repr([endpoint])):
        assert TOKEN not in text
    with pytest.raises(TypeError):
        pickle.dumps(secret)
