"""Fixtures for the environment commands: run them, make real environments."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import freewheel.cli

# Until the lead registers them in freewheel.cli.COMMANDS.
ENV_COMMANDS = (
    (("venv",), "venv", "Create a virtual environment"),
    (("pip", "list"), "pip_list", "List installed packages"),
    (("pip", "freeze"), "pip_freeze", "List installed packages as requirements"),
    (("pip", "show"), "pip_show", "Show information about installed packages"),
    (("pip", "check"), "pip_check", "Check that installed packages have compatible dependencies"),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture
def fw(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``freewheel ARGS``; return (exit code, stdout, stderr)."""
    known = {words for words, _, _ in freewheel.cli.COMMANDS}
    extra = tuple(c for c in ENV_COMMANDS if c[0] not in known)
    monkeypatch.setattr(freewheel.cli, "COMMANDS", freewheel.cli.COMMANDS + extra)

    def run(*args: str) -> tuple[int, str, str]:
        code = freewheel.cli.run(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run
