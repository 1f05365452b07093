"""A damaged cache heals instead of failing every later install.

Each test installs once to fill the cache, damages it the way disks, users
and killed processes do, then installs into a new environment with the same
cache and checks what is installed, from outside. A file changed in place
is only looked for when the user asks again (``--reinstall``,
``--refresh``): a reused tree is checked once, not file by file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from wheelkit import build_wheel

from freewheel.cli import run
from freewheel.install.unpack import MANIFEST


@pytest.fixture
def setup(tmp_path, index_server):
    dists = tmp_path / "dists"
    build_wheel(dists, "hello", "1.0", {"hello/__init__.py": "GREETING = 'hello, whole'\n"})
    server = index_server(dists)
    cache = tmp_path / "cache"

    def install(name: str, *extra: str) -> tuple[int, Path]:
        venv = tmp_path / name
        assert run(["venv", str(venv), "-q"]) == 0
        code = run(["pip", "install", "--python", str(venv / "bin" / "python"), "--no-config",
                    "--cache-dir", str(cache), "--default-index", server.url, "hello", *extra])
        return code, venv

    code, _ = install("first")
    assert code == 0
    return install, cache, server


def _greeting(venv: Path) -> str:
    return subprocess.run([str(venv / "bin" / "python"), "-c", "import hello; print(hello.GREETING)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _only(paths: list[Path]) -> Path:
    assert len(paths) == 1, paths
    return paths[0]


def _wheel_in(cache: Path) -> Path:
    return _only(list(cache.glob("wheels-v*/hello/*/hello-1.0-py3-none-any.whl")))


def _tree_in(cache: Path) -> Path:
    return _only([p for p in cache.glob("archive-v*/*") if p.is_dir() and not p.name.startswith(".")])


def test_a_truncated_wheel_in_the_cache_is_downloaded_again(setup, capsys):
    install, cache, server = setup
    wheel = _wheel_in(cache)
    wheel.write_bytes(wheel.read_bytes()[:100])
    for tree in cache.glob("archive-v*/*"):
        subprocess.run(["rm", "-rf", str(tree)], check=True)
    downloads = sum(1 for r in server.requests if r.path.endswith(".whl") and r.status == 200)

    code, venv = install("second")

    assert code == 0, capsys.readouterr().err
    assert _greeting(venv) == "hello, whole"
    assert sum(1 for r in server.requests if r.path.endswith(".whl") and r.status == 200) == downloads + 1


def test_offline_a_damaged_wheel_is_a_clear_error(setup, capsys):
    install, cache, _ = setup
    wheel = _wheel_in(cache)
    wheel.write_bytes(b"garbage" + wheel.read_bytes()[7:])
    for tree in cache.glob("archive-v*/*"):
        subprocess.run(["rm", "-rf", str(tree)], check=True)
    capsys.readouterr()

    code, _ = install("second", "--offline")

    err = capsys.readouterr().err
    assert code == 2
    assert "cached copy of hello-1.0-py3-none-any.whl was damaged" in err
    assert "freewheel cache clean hello" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "damage",
    [
        "empty record", "garbled metadata", "garbled metadata of the same size", "record not utf-8",
        "missing file", "missing manifest", "garbled manifest",
    ],
)
def test_a_damaged_unpacked_tree_is_unpacked_again(setup, damage, capsys):
    install, cache, _ = setup
    tree = _tree_in(cache)
    dist_info = tree / "hello-1.0.dist-info"
    if damage == "missing manifest":
        (tree / MANIFEST).unlink()
    elif damage == "garbled manifest":
        (tree / MANIFEST).write_bytes(b"\x93garbage")
    elif damage == "empty record":
        (dist_info / "RECORD").write_text("")
    elif damage == "garbled metadata":
        (dist_info / "METADATA").write_bytes(b"\x00\xff garbage")
    elif damage == "garbled metadata of the same size":
        # Sizes alone cannot tell; what METADATA names can.
        metadata = (dist_info / "METADATA").read_bytes()
        (dist_info / "METADATA").write_bytes(metadata.replace(b"Name: hello", b"Name: h\xffllo"))
    elif damage == "record not utf-8":
        (dist_info / "RECORD").write_bytes(b"\xff\xfe\x00bad")
    else:
        (tree / "hello" / "__init__.py").unlink()

    code, venv = install("second")

    assert code == 0, capsys.readouterr().err
    assert _greeting(venv) == "hello, whole"
    assert run(["pip", "show", "--python", str(venv / "bin" / "python"), "hello"]) == 0


def _tamper(cache: Path, same_size: bool) -> None:
    """Change a cached file in place: the tree's manifest cannot tell."""
    module = _tree_in(cache) / "hello" / "__init__.py"
    original = module.read_bytes()
    module.write_bytes(original.replace(b"whole", b"WHOLE") if same_size else b"GREETING = 'tampered!!'\n")
    assert (len(module.read_bytes()) == len(original)) == same_size


@pytest.mark.parametrize("same_size", [True, False], ids=["same size", "other size"])
@pytest.mark.parametrize(
    "option", [["--reinstall"], ["--reinstall-package", "hello"], ["--refresh"], ["--refresh-package", "hello"]]
)
def test_asking_again_checks_the_cached_tree_in_full(setup, option, same_size, capsys):
    install, cache, _ = setup
    _tamper(cache, same_size)

    code, venv = install("second", *option)

    assert code == 0, capsys.readouterr().err
    assert _greeting(venv) == "hello, whole"
