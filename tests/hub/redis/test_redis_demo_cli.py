"""``gyrfalcon demo --redis URL --workers N``: what reaches uvicorn and workers."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest

from gyrfalcon import cli


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Record ``cli._run()`` calls instead of starting uvicorn."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def run(app: str, **kwargs: Any) -> int:
        calls.append((app, kwargs))
        return 0

    monkeypatch.setattr(cli, '_run', run)
    # NOTE(gyrfalcon): setenv first so that monkeypatch restores the
    #   variable (absent, usually) after main() sets it.
    monkeypatch.setenv(cli.DEMO_REDIS_ENV, '')
    monkeypatch.delenv(cli.DEMO_REDIS_ENV)
    return calls


def test_redis_reaches_every_worker_through_the_environment(
    runs: list[tuple[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = 'redis://127.0.0.1:6379/3'
    assert cli.main(['demo', '--redis', url, '--workers', '3', '--port', '0']) == 0
    ((app, kwargs),) = runs
    assert app == cli.DEMO_APP
    assert kwargs['workers'] == 3
    assert kwargs['ws'] == cli.DEFAULT_WS
    # Worker processes inherit the environment uvicorn starts them with.
    assert os.environ[cli.DEMO_REDIS_ENV] == url


def test_workers_without_redis_are_warned_about(
    runs: list[tuple[str, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(['demo', '--workers', '2', '--port', '0']) == 0
    ((_, kwargs),) = runs
    assert kwargs['workers'] == 2
    assert 'each worker has its own hub' in capsys.readouterr().err
    assert cli.DEMO_REDIS_ENV not in os.environ


def test_one_worker_by_default(runs: list[tuple[str, dict[str, Any]]]) -> None:
    assert cli.main(['demo', '--port', '0']) == 0
    ((_, kwargs),) = runs
    assert kwargs['workers'] == 1


def test_redis_without_the_package_fails_clearly(
    runs: list[tuple[str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        'find_spec',
        lambda name, *args: None if name == 'redis' else find_spec(name, *args),
    )
    assert cli.main(['demo', '--redis', 'redis://localhost/0']) == 1
    assert runs == []
    assert "pip install 'gyrfalcon[redis]'" in capsys.readouterr().err


def test_workers_must_be_positive(runs: list[tuple[str, dict[str, Any]]]) -> None:
    with pytest.raises(SystemExit):
        cli.main(['demo', '--workers', '0'])
    assert runs == []


def test_the_environment_is_restored() -> None:
    # Runs after the tests above: their DEMO_REDIS_ENV did not leak.
    assert cli.DEMO_REDIS_ENV not in os.environ
