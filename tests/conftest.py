"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from support.server import IndexServer

# A property test fails on what it finds, never on how long an example took
# on a loaded machine.
settings.register_profile("freewheel", deadline=None)
settings.load_profile("freewheel")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Keep the developer's pip/uv configuration out of every test.

    This machine (and many others) configures extra indexes and find-links
    for pip through ``~/.config/pip`` and ``PIP_*`` variables, and a proxy
    variable would route requests for the local test servers away; a test
    that saw them would pass or fail depending on where it runs.
    """
    for name in list(os.environ):
        if name.startswith(("PIP_", "UV_", "XDG_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    # Retries with backoff are tested on their own; elsewhere they would
    # only make every deliberately unreachable index cost seconds.
    monkeypatch.setenv("FREEWHEEL_HTTP_RETRIES", "0")
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    # A test that forgets to name its index fails fast on a closed local
    # port instead of reaching the real default index (pip's settings are
    # the lowest layer, so every index a test names still wins).
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    # `--directory` changes the working directory of the process: a test
    # that runs the CLI in-process must not leave the next one there.
    monkeypatch.chdir(os.getcwd())


@pytest.fixture
def index_server() -> Iterator[Callable[..., IndexServer]]:
    """Start index servers: ``index_server(dists_dir, **options)``.

    Options are those of :class:`tests.support.server.ServerOptions`; every
    server started is stopped when the test ends.
    """
    servers: list[IndexServer] = []

    def start(dists_dir: Path, **options: object) -> IndexServer:
        server = IndexServer(dists_dir, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
