"""A killed install, upgrade or uninstall leaves no debris once the next
command has run, and ``pip check`` reports it until then.

Each command is first run to the end under ``strace``, which lists the
system calls of each thread; the environment is then put back, and the same
command run again is killed (``SIGKILL``, by ``strace``) exactly when it
makes the call chosen: the n-th file linked, the rename of a
``.dist-info``, the deletion of the first file set aside after the change
was committed. The same command on the same state makes the same calls, in
each thread, so each point is reached every time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.cli import FREEWHEEL, freewheel
from support.server import IndexServer
from wheelkit import build_wheel, snapshot

from freewheel.install.transaction import JOURNAL

STRACE = shutil.which("strace")

pytestmark = pytest.mark.skipif(STRACE is None, reason="needs strace to kill at a chosen system call")

_CALL = re.compile(r'^(\w+)\((.*)\) += ')


def _calls(trace_prefix: Path) -> list[list[tuple[str, list[str]]]]:
    """The traced calls of each thread of the freewheel process, its main
    thread first: (name, path arguments)."""
    main: list[list[str]] = []
    threads: list[list[str]] = []
    for trace in sorted(trace_prefix.parent.glob(trace_prefix.name + ".*")):
        lines = trace.read_text().splitlines()
        if lines and lines[0].startswith(f'execve("{FREEWHEEL}"'):
            main.append(lines)
        elif lines and not lines[0].startswith("execve("):
            # A thread: only processes start with an execve.
            threads.append(lines)
    if not main:
        raise AssertionError(f"no trace of the freewheel process in {trace_prefix.parent}")
    return [
        [
            (match.group(1), re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2)))
            for line in lines
            if (match := _CALL.match(line))
        ]
        for lines in main + threads
    ]


Point = Callable[[str, list[str]], bool]


def _run_killed(args: list[str], restore: Callable[[], None], tmp_path: Path, point: Point) -> None:
    """Run ``freewheel ARGS`` to the end, traced; *restore* the state it
    started from; run it again, killed at the first call *point* accepts."""
    traces = tmp_path / "traces"
    traces.mkdir()
    calls = "link,linkat,rename,renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat"
    subprocess.run(
        [STRACE, "-ff", "-qq", "-o", str(traces / "call"), "-e", f"trace=execve,{calls}", str(FREEWHEEL), *args],
        check=True, capture_output=True, env=os.environ,
    )
    # strace counts the calls to inject into thread by thread: the chosen
    # call is the n-th of its name in the thread that makes it.
    for calls in _calls(traces / "call"):
        seen: dict[str, int] = {}
        for name, paths in calls:
            seen[name] = seen.get(name, 0) + 1
            if point(name, paths):
                break
        else:
            continue
        break
    else:
        raise AssertionError("the chosen call was never made")
    shutil.rmtree(traces)
    restore()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    killed = subprocess.run(
        [STRACE, "-f", "-qq", "-o", os.devnull, "-e", f"trace={name}",
         "-e", f"inject={name}:signal=SIGKILL:when={seen[name]}", str(FREEWHEEL), *args],
        capture_output=True, text=True, env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert killed.returncode == -signal.SIGKILL or killed.returncode == 128 + signal.SIGKILL, killed.stderr
    # Nothing a later command could not find is left: the lock directory
    # is shared by every run, and kept.
    assert [p.name for p in temporary.iterdir()] in ([], ["freewheel-locks"])


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IndexServer, Path]]:
    """An index with hello 1.0 and 2.0 (sharing some files), and a cache
    holding both, shared by the module: each test has its own environment."""
    root = tmp_path_factory.mktemp("killed")
    dists = root / "dists"
    shared = {f"hello/shared{i}.py": f"S = {i}\n" for i in range(3)}
    build_wheel(dists, "hello", "1.0", {"hello/__init__.py": "V = 1\n", "hello/old.py": "", **shared,
                                        "hello/sub/__init__.py": ""})
    build_wheel(dists, "hello", "2.0", {"hello/__init__.py": "V = 2\n", "hello/new.py": "", **shared})
    server = IndexServer(dists)
    cache = root / "cache"
    scratch = root / "scratch"
    venv.create(scratch, with_pip=False, symlinks=True)
    for version in ("1.0", "2.0"):
        result = freewheel("pip", "install", f"hello=={version}", "--python", scratch / "bin" / "python", "-q",
                           "--cache-dir", cache, "--default-index", server.url)
        assert result.returncode == 0, result.stderr
    yield server, cache
    server.stop()


@pytest.fixture
def world(warm, tmp_path: Path):
    """An environment, and a function giving the freewheel command line for it."""
    server, cache = warm
    env = tmp_path / "env"
    venv.create(env, with_pip=False, symlinks=True)

    def run(*args: str) -> list[str]:
        command = [*args, "--python", str(env / "bin" / "python"), "-q", "--cache-dir", str(cache)]
        if args[:2] == ("pip", "install"):
            command += ["--default-index", server.url, "--link-mode", "hardlink"]
        return command

    # The interpreter is described once, so that later runs make the same calls.
    assert freewheel(*run("pip", "uninstall", "absent")).returncode == 0
    return env, run


def _debris(env: Path) -> list[str]:
    return sorted(str(p.relative_to(env)) for p in env.rglob("*") if "freewheel" in p.name)


def _site(env: Path) -> Path:
    return next(env.glob("lib/python*/site-packages"))


def _in(suffix: str) -> Callable[[Path], Point]:
    """The call whose first path is *suffix* in site-packages."""
    return lambda env: lambda name, paths: bool(paths) and paths[0] == str(_site(env) / suffix)


def _first_backup_deleted(env: Path) -> Point:
    """The deletion of the first thing set aside: after the commit."""
    return lambda name, paths: name in ("unlink", "unlinkat") and any(
        re.search(r"\.freewheel-[0-9a-f]+~", path) for path in paths
    )


def _nth_link(n: int) -> Callable[[Path], Point]:
    def point(env: Path) -> Point:
        links = iter(range(1, n + 1))
        return lambda name, paths: name in ("link", "linkat") and next(links, None) == n

    return point


INSTALL_1, INSTALL_2, UNINSTALL = ("pip", "install", "hello==1.0"), ("pip", "install", "hello==2.0"), (
    "pip", "uninstall", "hello")
# name: (version installed first, command, where it is killed, what the next command leaves)
SCENARIOS = {
    "fresh install, first file": (None, INSTALL_1, _nth_link(1), "before"),
    "fresh install, fourth file": (None, INSTALL_1, _nth_link(4), "before"),
    "fresh install, .dist-info moved in": (None, INSTALL_1, _in(".hello-1.0.dist-info.freewheel-partial"), "before"),
    "upgrade, third file": ("1.0", INSTALL_2, _nth_link(3), "before"),
    "upgrade, old .dist-info set aside": ("1.0", INSTALL_2, _in("hello-1.0.dist-info"), "before"),
    "upgrade, committed": ("1.0", INSTALL_2, _first_backup_deleted, "after"),
    "uninstall, a file set aside": ("1.0", UNINSTALL, _in("hello/old.py"), "before"),
    "uninstall, committed": ("1.0", UNINSTALL, _first_backup_deleted, "after"),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_killed_command_is_finished_by_the_next(scenario: str, world, tmp_path: Path) -> None:
    env, run = world
    installed, command, point, left = SCENARIOS[scenario]
    if installed:
        assert freewheel(*run("pip", "install", f"hello=={installed}")).returncode == 0
    before = snapshot(env)
    saved = tmp_path / "saved"
    shutil.copytree(env, saved, symlinks=True)

    def restore() -> None:
        shutil.rmtree(env)
        shutil.copytree(saved, env, symlinks=True)

    expected = {}

    def remember_and_restore() -> None:
        expected["after"] = snapshot(env)
        restore()

    _run_killed(run(*command), remember_and_restore, tmp_path, point(env))

    assert (env / JOURNAL).exists(), "the command was killed outside its transaction"
    check = freewheel(*run("pip", "check"))
    assert check.returncode == 1 and "unfinished change" in check.stderr

    result = freewheel(*run("pip", "uninstall", "absent"))
    assert result.returncode == 0, result.stderr
    assert _debris(env) == []
    assert snapshot(env) == (before if left == "before" else expected["after"])
    assert freewheel(*run("pip", "check")).returncode == 0


@pytest.mark.parametrize(
    "journal",
    [
        '["begin", "{site}"]\n["new", "{outside}"]\n',
        '["begin", "{site}"]\n["set aside", "{site}/x.py", "{outside}"]\n',
        '["begin", "{site}"]\n["new", "{site}/../../../../outside/precious.txt"]\n',
        'garbage\n["new", "{outside}"]\n',
    ],
    ids=["new outside", "backup outside", "dot-dot out", "not a journal"],
)
def test_a_journal_naming_what_is_not_the_environments_is_refused(journal: str, tmp_path: Path) -> None:
    env = tmp_path / "env"
    venv.create(env, with_pip=False, symlinks=True)
    outside = tmp_path / "outside" / "precious.txt"
    outside.parent.mkdir()
    outside.write_text("keep me")
    (env / JOURNAL).write_text(journal.format(site=_site(env), outside=outside))

    result = freewheel("pip", "uninstall", "anything", "--python", env / "bin" / "python")

    assert result.returncode == 2, result.stderr
    assert "cannot be used" in result.stderr and "Traceback" not in result.stderr
    assert outside.read_text() == "keep me"
    assert (env / JOURNAL).exists()


def test_a_journal_cut_short_is_undone_up_to_its_last_whole_line(tmp_path: Path) -> None:
    env = tmp_path / "env"
    venv.create(env, with_pip=False, symlinks=True)
    site = _site(env)
    backup = site / ".x.py.freewheel-0123abcd~"
    backup.write_text("original\n")
    (site / "x.py").write_text("new\n")
    lines = [["begin", str(site)], ["set aside", str(site / "x.py"), str(backup)], ["new", str(site / "x.py")]]
    (env / JOURNAL).write_text("".join(json.dumps(line) + "\n" for line in lines) + '["new", "' + str(site))

    result = freewheel("pip", "uninstall", "anything", "--python", env / "bin" / "python")

    assert result.returncode == 0, result.stderr
    assert "interrupted change" in result.stderr and "undone" in result.stderr
    assert (site / "x.py").read_text() == "original\n"
    assert _debris(env) == []
