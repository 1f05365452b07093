"""Every command the README documents is there, in the console script as installed."""

from __future__ import annotations

import pytest
from support.cli import freewheel

DOCUMENTED = [
    "pip compile", "explain", "venv", "pip install", "pip sync", "pip uninstall",
    "pip list", "pip freeze", "pip show", "pip check", "cache dir", "cache clean", "cache prune",
    "pip download", "pip wheel", "lock", "sync", "export", "tree", "add", "remove", "run",
]


@pytest.mark.parametrize("command", DOCUMENTED)
def test_documented_command_runs(command: str) -> None:
    result = freewheel(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: freewheel {command}")


def test_the_top_level_help_lists_every_command() -> None:
    result = freewheel("--help")
    assert result.returncode == 0
    listed = result.stdout.split("positional arguments:")[1]
    assert {command.split()[0] for command in DOCUMENTED} <= set(listed.split())


def test_every_command_module_leaves_the_entry_point_alone() -> None:
    # Configuring every command imports every command module; one named
    # like a function of freewheel.cli (``run``) would replace it.
    from freewheel import cli

    cli.build_parser()
    assert callable(cli.run) and cli.run.__module__ == "freewheel.cli"


def test_a_caller_passing_arguments_keeps_its_collector_settings(capsys) -> None:
    # The program tunes the cyclic collector for a run that ends with the
    # process; code calling main() in-process must find it as it left it.
    import gc

    from freewheel.__main__ import main

    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("freewheel ")
    assert (gc.get_threshold(), gc.callbacks, gc.get_freeze_count()) == (thresholds, callbacks, 0)
