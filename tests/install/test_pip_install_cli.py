"""``freewheel pip install|sync|uninstall`` end to end, checked from outside."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from wheelkit import build_wheel, snapshot, write_wheel

from freewheel.cli import run

CLI_SCRIPT = "[console_scripts]\nhello-cli = hello.cli:main\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fresh venv made by ``freewheel venv``, active as VIRTUAL_ENV."""
    monkeypatch.chdir(tmp_path)
    assert run(["venv", str(tmp_path / "venv"), "-q"]) == 0
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    return tmp_path / "venv"


@pytest.fixture
def index(tmp_path, index_server):
    """An index with hello (a console script, a dependency) and its dependency."""
    dists = tmp_path / "dists"
    build_wheel(
        dists, "hello", "1.0",
        {"hello/__init__.py": "", "hello/cli.py": "def main():\n    print('hi from hello')\n"},
        entry_points=CLI_SCRIPT, requires=("world>=1",),
    )
    build_wheel(dists, "hello", "2.0", {"hello/__init__.py": "V = 2\n", "hello/cli.py": "def main():\n    print('hi 2')\n"},
                entry_points=CLI_SCRIPT, requires=("world>=1",))
    build_wheel(dists, "world", "1.0", {"world.py": "X = 1\n"})
    build_wheel(dists, "extra-stuff", "1.0", {"extra_stuff.py": ""})
    return dists, index_server


def fw(*args: str) -> int:
    return run(["pip", *args, "-q"])


def python(venv: Path, code: str) -> str:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True).stdout


def outer_pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "--disable-pip-version-check", *args],
        capture_output=True, text=True, check=False,
    )


def test_install_runs_and_pip_agrees(env, index):
    dists, serve = index
    server = serve(dists)
    assert fw("install", "hello==1.0", "--default-index", server.url) == 0
    assert python(env, "import hello, world; print(world.X)") == "1\n"
    assert subprocess.run([str(env / "bin" / "hello-cli")], capture_output=True, text=True).stdout == "hi from hello\n"
    assert outer_pip(env, "check").returncode == 0
    # REQUESTED marks what the user asked for, not the dependency.
    site = next((env / "lib").glob("python*/site-packages"))
    assert (site / "hello-1.0.dist-info" / "REQUESTED").exists()
    assert not (site / "world-1.0.dist-info" / "REQUESTED").exists()
    assert (site / "hello-1.0.dist-info" / "INSTALLER").read_text().strip() == "freewheel"

    # pip removes what freewheel installed, leaving no files behind.
    before_uninstall = snapshot(env)
    assert outer_pip(env, "uninstall", "-y", "hello", "world").returncode == 0
    after = snapshot(env)
    leftovers = [p for p in after if p not in before_uninstall or "hello" in p or "world" in p]
    assert [p for p in leftovers if after[p][0] == "file"] == []


def test_upgrade_reinstall_sync_and_uninstall(env, index, tmp_path):
    dists, serve = index
    url = serve(dists).url
    assert fw("install", "hello==1.0", "extra-stuff", "--default-index", url) == 0
    assert fw("install", "hello", "-U", "--default-index", url) == 0
    assert python(env, "import hello; print(hello.V)") == "2\n"
    (tmp_path / "pins.txt").write_text("hello==1.0\nworld==1.0\n")
    assert fw("sync", str(tmp_path / "pins.txt"), "--default-index", url) == 0
    listed = outer_pip(env, "list", "--format", "freeze").stdout
    assert "hello==1.0" in listed and "extra-stuff" not in listed
    assert fw("uninstall", "hello", "world") == 0
    assert "hello" not in outer_pip(env, "list", "--format", "freeze").stdout


def test_freewheel_uninstalls_what_pip_installed(env, index):
    dists, _ = index
    assert outer_pip(env, "install", "--no-index", "--no-deps", str(next(dists.glob("world-*.whl")))).returncode == 0
    assert fw("uninstall", "world") == 0
    assert "world" not in outer_pip(env, "list", "--format", "freeze").stdout


def test_require_hashes_and_dry_run_change_nothing(env, index, tmp_path, capsys):
    dists, serve = index
    url = serve(dists).url
    world = next(dists.glob("world-*.whl"))
    good = hashlib.sha256(world.read_bytes()).hexdigest()
    before = snapshot(env)
    (tmp_path / "r.txt").write_text(f"world==1.0 --hash=sha256:{'0' * 64}\n")
    assert run(["pip", "install", "-r", str(tmp_path / "r.txt"), "--default-index", url]) == 2
    assert "matches none of the hashes" in capsys.readouterr().err
    (tmp_path / "r.txt").write_text("hello==1.0\n")
    assert run(["pip", "install", "-r", str(tmp_path / "r.txt"), "--require-hashes", "--default-index", url]) == 2
    assert "no --hash is given for hello, world" in capsys.readouterr().err
    assert fw("install", "hello", "--dry-run", "--default-index", url) == 0
    assert snapshot(env) == before
    (tmp_path / "r.txt").write_text(f"world==1.0 --hash=sha256:{good}\n")
    assert fw("install", "-r", str(tmp_path / "r.txt"), "--default-index", url) == 0


def test_hostile_wheel_leaves_the_environment_unchanged(env, tmp_path, index_server, capsys):
    dists = tmp_path / "evil"
    write_wheel(dists, "evil", "1.0", {"../../escape.py": b"boom", "evil-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
                                       "evil-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"})
    server = index_server(dists)
    before = snapshot(env)
    assert run(["pip", "install", "evil", "--default-index", server.url]) == 2
    err = capsys.readouterr().err
    assert "error: evil-1.0-py3-none-any.whl is unsafe to install" in err and "Traceback" not in err
    assert snapshot(env) == before


def test_no_store_index_reinstalls_offline_and_wheels_download_once(env, index, tmp_path):
    dists, serve = index
    server = serve(dists, cache_control="no-store", ranges=False)
    assert fw("install", "hello==1.0", "--default-index", server.url) == 0
    wheel_gets = [r for r in server.requests if r.path.endswith(".whl") and r.method == "GET"]
    # Without range support the metadata read fetched each wheel whole; the
    # install reused those bytes instead of downloading again.
    assert len(wheel_gets) == len({r.path for r in wheel_gets}) == 2
    assert fw("uninstall", "hello", "world") == 0
    server.stop()
    assert run(["pip", "install", "hello==1.0", "--default-index", server.url, "--offline"]) == 0
    assert python(env, "import hello, world; print('ok')") == "ok\n"


def test_options_may_come_between_package_names(env, index, capsys):
    dists, serve = index
    url = serve(dists).url
    assert run(["pip", "install", "world", "-q", "extra-stuff", "--default-index", url]) == 0
    listed = outer_pip(env, "list", "--format", "freeze").stdout.split()
    assert "world==1.0" in listed and "extra-stuff==1.0" in listed
    capsys.readouterr()
    assert run(["pip", "show", "world", "-q", "extra-stuff"]) == 0
    shown = capsys.readouterr().out
    assert "Name: world" in shown and "Name: extra-stuff" in shown
    assert run(["pip", "uninstall", "world", "-q", "extra-stuff"]) == 0
    listed = outer_pip(env, "list", "--format", "freeze").stdout
    assert "world" not in listed and "extra-stuff" not in listed


@pytest.mark.parametrize("command", ["install", "uninstall", "show"])
def test_a_usage_error_shows_the_usage_of_the_command(command, capsys):
    with pytest.raises(SystemExit) as exited:
        run(["pip", command, "six", "--no-such-option"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: freewheel pip {command} ")
    assert err.endswith(f"freewheel pip {command}: error: unrecognized arguments: --no-such-option\n")


def test_a_pinned_yanked_version_comes_with_a_warning(env, index, tmp_path, capsys):
    dists, serve = index
    url = serve(dists, yanked={"world-1.0-py3-none-any.whl": "broken\nbuild"}).url
    warning = 'warning: `world==1.0` is yanked (reason: "broken build")\n'
    (tmp_path / "pins.txt").write_text("world==1.0\n")
    compile_ = ["pip", "compile", str(tmp_path / "pins.txt"), "-o", str(tmp_path / "out.txt")]
    for command in (
        compile_,
        ["pip", "install", "world==1.0", "--dry-run"],
        ["pip", "install", "world==1.0"],
        ["pip", "sync", str(tmp_path / "pins.txt"), "--reinstall"],
    ):
        assert run([*command, "--default-index", url]) == 0
        err = capsys.readouterr().err
        # As uv: after everything else, so that no list of changes buries it.
        assert err.endswith(warning), (command, err)
    # Nothing to install, nothing to warn about; -q silences it.
    assert run(["pip", "install", "world==1.0", "--default-index", url]) == 0
    assert "yanked" not in capsys.readouterr().err
    assert run(["pip", "install", "world==1.0", "--reinstall", "-q", "--default-index", url]) == 0
    assert run([*compile_, "-q", "--default-index", url]) == 0
    assert capsys.readouterr().err == ""


def test_pip_gets_its_launchers_for_the_target_python(env, tmp_path):
    """pip's wheel declares ``pip3.N`` for the Python that built it; the
    environment gets ``pip3.X`` for its own Python instead, as with uv and pip."""
    house = tmp_path / "house"
    main = "def main():\n    print('fake pip')\n"
    build_wheel(
        house, "pip", "99.0", {"pip/__init__.py": "", "pip/cli.py": main},
        entry_points="[console_scripts]\npip = pip.cli:main\npip3 = pip.cli:main\npip3.9 = pip.cli:main\n",
    )
    assert fw("install", "pip", "--no-index", "-f", str(house)) == 0
    version = python(env, "import sys; print('%d.%d' % sys.version_info[:2])").strip()
    launchers = sorted(p.name for p in (env / "bin").iterdir() if p.name.startswith("pip"))
    assert launchers == ["pip", "pip3", f"pip{version}"]
    result = subprocess.run([str(env / "bin" / f"pip{version}")], capture_output=True, text=True)
    assert result.stdout == "fake pip\n"
    # pip itself removes every launcher it finds in the RECORD.
    assert outer_pip(env, "uninstall", "-y", "pip").returncode == 0
    assert not [p for p in (env / "bin").iterdir() if p.name.startswith("pip")]


def test_what_is_installed_already_is_audited_without_reading_an_index(env, index, tmp_path, capsys):
    dists, serve = index
    server = serve(dists)
    assert fw("install", "hello==1.0", "--default-index", server.url) == 0
    (tmp_path / "pins.txt").write_text("hello==1.0\nworld==1.0\n")
    server.requests.clear()
    capsys.readouterr()
    # Satisfied, dependencies included: nothing is resolved, so no index is read.
    assert run(["pip", "install", "hello>=1", "--default-index", server.url]) == 0
    assert run(["pip", "sync", str(tmp_path / "pins.txt"), "--default-index", server.url]) == 0
    assert server.requests == []
    assert capsys.readouterr().err.count("Audited 2 packages") == 2
    # A version the environment does not have, a missing dependency, an
    # extraneous package for sync: each needs the index again.
    assert fw("install", "hello>=2", "--default-index", server.url) == 0
    assert python(env, "import hello; print(hello.V)") == "2\n"
    requests = len(server.requests)
    assert fw("install", "extra-stuff", "--default-index", server.url) == 0
    assert len(server.requests) > requests
    assert fw("sync", str(tmp_path / "pins.txt"), "--default-index", server.url) == 0
    assert "extra-stuff" not in outer_pip(env, "list", "--format", "freeze").stdout


def test_installed_files_are_as_readable_as_pip_makes_them(env, index):
    # RECORD is written after the wheel's files, through a temporary file:
    # it must end up as readable as METADATA, or another user of a shared
    # environment (a container running as someone else) cannot list it.
    dists, serve = index
    old = os.umask(0o022)
    try:
        assert fw("install", "world", "--default-index", serve(dists).url) == 0
    finally:
        os.umask(old)
    dist_info = next((env / "lib").glob("python*/site-packages")) / "world-1.0.dist-info"
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in dist_info.iterdir()}
    assert modes["RECORD"] == modes["METADATA"] == 0o644, modes
