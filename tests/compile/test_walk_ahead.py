"""While the target interpreter describes itself (a tenth of a second for a
pyenv shim, more on a slow disk), pip compile already fetches what the
running interpreter, its likely target, would need. Each scenario uses an
interpreter that answers only once the index served a given request, so
nothing is timed."""

from __future__ import annotations

import sys
from pathlib import Path

from support.builders import make_wheel
from support.cli import freewheel
from support.waiting import answering_once_served


def _compile(tmp_path: Path, server, python: Path, *args: str):
    (tmp_path / "requirements.in").write_text("demo\n")
    return freewheel("pip", "compile", "--no-config", "requirements.in", "--no-header", "--no-annotate",
                     "--python", python, "--default-index", server.url, "--cache-dir", tmp_path / "cache", *args,
                     cwd=tmp_path)


def test_dependencies_pages_are_read_before_the_interpreter_answers(tmp_path, index_server):
    """demo's dependency is known only from demo's metadata: its page is
    asked for before the interpreter answers."""
    dists = tmp_path / "dists"
    make_wheel(dists, "demo", "1.0", ["dep"])
    make_wheel(dists, "dep", "1.0")
    server = index_server(dists)
    with answering_once_served(tmp_path / "python", server, lambda path: path == "/simple/dep/") as late:
        result = _compile(tmp_path, server, late.python)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "demo==1.0\ndep==1.0\n"
    assert not late.late.exists(), "dep's page was asked for only after the interpreter answered"


def _as_python_3_8() -> str:
    """The shell command running the test's interpreter, which then
    describes itself as Python 3.8 (the running one is newer): the guess
    made from the running interpreter is wrong."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    full = f"{running}.{sys.version_info[2]}"
    short = f"{sys.version_info[0]}{sys.version_info[1]}"
    edits = "; ".join([
        rf's/"version": \[{sys.version_info[0]}, {sys.version_info[1]}, {sys.version_info[2]}\]/"version": [3, 8, 18]/',
        f's/"{full}"/"3.8.18"/g',
        f's/"{running}"/"3.8"/g',
        f's/cp{short}/cp38/g',
    ])
    return f"'{sys.executable}' \"$@\" | sed -e '{edits}'"


def test_a_wrong_guess_only_costs_fetches(tmp_path, index_server):
    """The running interpreter would take demo 2.0 and its dependency; the
    target, Python 3.8, takes demo 1.0 and another. What the guess fetched
    ahead changes nothing in the result."""
    dists = tmp_path / "dists"
    make_wheel(dists, "demo", "1.0", ["old-dep"])
    make_wheel(dists, "demo", "2.0", ["new-dep"], requires_python=">=3.9")
    make_wheel(dists, "old-dep", "1.0")
    make_wheel(dists, "new-dep", "1.0")
    server = index_server(dists)
    with answering_once_served(
        tmp_path / "python", server, lambda path: path == "/simple/new-dep/", then=_as_python_3_8()
    ) as late:
        result = _compile(tmp_path, server, late.python)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "demo==1.0\nold-dep==1.0\n"
    assert not late.late.exists(), "the guess was not walked"
