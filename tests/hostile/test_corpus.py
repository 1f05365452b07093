"""Hostile and malformed input, each run through ``pip compile`` and
``pip install`` as shipped: a short error and exit 2 (1 where the input is
well formed but names nothing that can be installed: "no solution"), never
a traceback, and the environment exactly as it was.

One index server, one cache and one environment serve the whole module;
each case names the project it asks for, so that cases cannot see each
other. Commands run through the real ``main``, in process, for speed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.builders import make_wheel
from support.server import IndexServer

from freewheel.__main__ import main

DEEP = "[" * 50_000 + "]" * 50_000

REQUIREMENTS = {
    "not a requirement": "!!!>=<\n",
    "unclosed extras": "hello[extra\n",
    "bad marker": "hello; python_version >>> '3'\n",
    "empty url": "hello @ \n",
    "option without value": "--index-url\n",
    "unknown option": "--frobnicate\n",
    "missing nested file": "-r does-not-exist.txt\n",
    "includes itself": "-r requirements.txt\n",
    "nul byte": "hello\x00\n",
    "huge version": "hello==" + "9" * 5000 + "\n",
    "huge name": "h" * 5000 + "\n",
    "editable nothing": "-e\n",
    "index url no parser reads": "--extra-index-url=http://[::1\nhello\n",
    "index url with a port out of range": "--extra-index-url http://127.0.0.1:99999/simple/\nhello\n",
    "editable url no parser reads": "-e http://[x\n",
    "not text": b"\xff\xfe\xfa\x00\x80garbage",
}

PYPROJECTS = {
    "not toml": "[project\nname = 'a'\n",
    "nested too deep": f"[project]\nname = 'a'\nversion = '1'\nx = {DEEP}\n",
    "dynamic not a list": "[project]\nname = 'a'\nversion = '1'\ndynamic = 1\n",
    "dependencies not a list": "[project]\nname = 'a'\nversion = '1'\ndependencies = 'hello'\n",
    "dependency not a string": "[project]\nname = 'a'\nversion = '1'\ndependencies = [1]\n",
    "bad dependency": "[project]\nname = 'a'\nversion = '1'\ndependencies = ['!!!']\n",
    "name not a string": "[project]\nname = 1\nversion = '1'\n",
    "bad requires-python": "[project]\nname = 'a'\nversion = '1'\nrequires-python = '>=3,<<'\n",
    "project not a table": "project = 1\n",
    "tool.uv not a table": "[project]\nname = 'a'\nversion = '1'\ndependencies = ['hello']\n[tool]\nuv = 1\n",
    "index url no parser reads": "[project]\nname = 'a'\nversion = '1'\ndependencies = ['hello']\n"
    "[tool.uv]\nextra-index-url = ['http://[::1']\n",
    "index without url": "[project]\nname = 'a'\nversion = '1'\ndependencies = ['hello']\n[[tool.uv.index]]\nname = 'x'\n",
    "not text": b"\xff\xfe\xfa\x00\x80garbage",
}

HTML = "text/html"
JSON = "application/vnd.pypi.simple.v1+json"


def _json(files: object) -> tuple[str, bytes]:
    return JSON, json.dumps({"meta": {"api-version": "1.0"}, "name": "x", "files": files}).encode()


PAGES = {
    "json not json": (JSON, b"{not json"),
    "json files not a list": _json(3),
    "json file not an object": _json([3]),
    "json page not an object": (JSON, b"[1, 2, 3]"),
    "json nested too deep": (JSON, DEEP.encode()),
    "html not text": (HTML, b"\xff\xfe<a href='\x00'>\x80</a>" * 100),
}
# Files are read whole only when their version is looked at: a malformed
# one of the project's own is found then (the project is page-<position>),
# and one the project does not list is never read.
PAGES["json hashes not an object"] = _json(
    [{"filename": f"page_{len(PAGES)}-1.0.tar.gz", "url": f"page_{len(PAGES)}-1.0.tar.gz", "hashes": "sha256"}]
)
PAGES["json filename not a string"] = _json([{"filename": 1, "url": f"page_{len(PAGES)}-1.0.tar.gz", "hashes": {}}])


def _wheel_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


def _hostile_wheels(dists: Path) -> dict[str, str]:
    """Write the hostile wheels; return the project each case asks for."""
    cases = {}
    make_wheel(dists, "evil-escape", "1.0", files={"../../escape.py": "boom\n"})
    cases["member escapes"] = "evil-escape"
    truncated = make_wheel(dists, "evil-truncated", "1.0", padding=50_000)
    truncated.path.write_bytes(truncated.path.read_bytes()[:-3000])
    cases["truncated"] = "evil-truncated"
    (dists / "evil_notzip-1.0-py3-none-any.whl").write_bytes(b"this is not a zip file\n" * 100)
    cases["not a zip"] = "evil-notzip"
    metadata = b"Metadata-Version: 2.1\nName: evil-norecord\nVersion: 1.0\n"
    (dists / "evil_norecord-1.0-py3-none-any.whl").write_bytes(
        _wheel_bytes({
            "evil_norecord-1.0.dist-info/METADATA": metadata,
            "evil_norecord-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n",
            "evil_norecord/__init__.py": b"",
        })
    )
    cases["no RECORD"] = "evil-norecord"
    return cases


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IndexServer, Path, Path, dict[str, str]]]:
    root = tmp_path_factory.mktemp("hostile")
    dists = root / "dists"
    make_wheel(dists, "hello", "1.0", files={"hello/__init__.py": "X = 1\n", "hello/empty.py": ""})
    wheels = _hostile_wheels(dists)
    server = IndexServer(dists, pages={f"page-{i}": page for i, page in enumerate(PAGES.values())})
    env = root / "env"
    venv.create(env, with_pip=False, symlinks=True)
    yield server, env, root, wheels
    server.stop()


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"" for p in sorted(root.rglob("*"))}


# Cases whose input is well formed, but leaves nothing to install.
NO_SOLUTION = {"huge name", "truncated", "not a zip"}


def _fails_cleanly(args: list[str], capsys: pytest.CaptureFixture[str], *, code: int = 2) -> None:
    found = main(args)
    out, err = capsys.readouterr()
    assert found == code, err
    assert "Traceback" not in out + err
    # The net under every command is not the answer to bad input.
    assert "Unexpected failure" not in err, err
    assert err.startswith("error:") or "\nerror:" in err, err


def _both(
    world, source: list[str], install_source: list[str], capsys: pytest.CaptureFixture[str], *, code: int = 2
) -> None:
    """Run compile and install on *source*; both must fail cleanly, the environment untouched.

    The project's own configuration is read (no ``--no-config``): it is
    input too. The test's HOME and pip configuration are empty.
    """
    server, env, root, _ = world
    before = _tree(env)
    common = ["--default-index", server.url, "--cache-dir", str(root / "cache")]
    _fails_cleanly(["pip", "compile", *source, *common], capsys, code=code)
    install = ["pip", "install", *install_source, "--python", str(env / "bin" / "python"), *common]
    _fails_cleanly(install, capsys, code=code)
    assert _tree(env) == before


@pytest.mark.parametrize("case", REQUIREMENTS)
def test_requirements_file(case: str, world, tmp_path: Path, capsys) -> None:
    content = REQUIREMENTS[case]
    path = tmp_path / "requirements.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _both(world, [str(path)], ["-r", str(path)], capsys, code=1 if case in NO_SOLUTION else 2)


@pytest.mark.parametrize("case", PYPROJECTS)
def test_pyproject(case: str, world, tmp_path: Path, capsys) -> None:
    content = PYPROJECTS[case]
    path = tmp_path / "pyproject.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _both(world, [str(path)], ["-r", str(path)], capsys)


@pytest.mark.parametrize("case", PAGES)
def test_index_page(case: str, world, tmp_path: Path, capsys) -> None:
    name = f"page-{list(PAGES).index(case)}"
    (tmp_path / "in.txt").write_text(f"{name}\n")
    _both(world, [str(tmp_path / "in.txt")], [name], capsys)


@pytest.mark.parametrize("case", ["member escapes", "truncated", "not a zip", "no RECORD"])
def test_wheel(case: str, world, capsys) -> None:
    """Only an install reads a wheel whole: compile needs its metadata only."""
    server, env, root, wheels = world
    before = _tree(env)
    args = ["pip", "install", wheels[case], "--python", str(env / "bin" / "python"),
            "--default-index", server.url, "--cache-dir", str(root / "cache")]
    _fails_cleanly(args, capsys, code=1 if case in NO_SOLUTION else 2)
    assert _tree(env) == before


def _garble_pages(cache: Path) -> None:
    for path in cache.glob("simple-*/**/*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 3)


def _fifo_for_empty_file(cache: Path) -> None:
    (empty,) = cache.glob("archive-*/*/hello/empty.py")
    empty.unlink()
    os.mkfifo(empty)


def _directory_for_file(cache: Path) -> None:
    (module,) = cache.glob("archive-*/*/hello/__init__.py")
    module.unlink()
    module.mkdir()


def _symlink_for_file(cache: Path) -> None:
    (module,) = cache.glob("archive-*/*/hello/__init__.py")
    module.unlink()
    module.symlink_to("/etc/hostname")


def _file_for_tree(cache: Path) -> None:
    (tree,) = [p for p in cache.glob("archive-*/*") if p.is_dir() and not p.name.startswith(".")]
    shutil.rmtree(tree)
    tree.write_bytes(b"not a tree")


def _directory_for_wheel(cache: Path) -> None:
    for tree in [p for p in cache.glob("archive-*/*") if p.is_dir()]:
        shutil.rmtree(tree)
    (wheel,) = cache.glob("wheels-*/**/*.whl")
    wheel.unlink()
    wheel.mkdir()


CACHE_DAMAGE = {
    "pages garbled": _garble_pages,
    "fifo in an unpacked tree": _fifo_for_empty_file,
    "directory for a file in an unpacked tree": _directory_for_file,
    "symlink out for a file in an unpacked tree": _symlink_for_file,
    "file for an unpacked tree": _file_for_tree,
    "directory for a cached wheel": _directory_for_wheel,
}


@pytest.mark.parametrize("case", CACHE_DAMAGE)
def test_cache_damage(case: str, world, tmp_path: Path, capsys) -> None:
    """A damaged cache heals (the install works) or is a clear error, offline too."""
    server, env, root, _ = world
    pristine = root / "pristine-cache"
    if not pristine.exists():
        scratch = root / "scratch"
        venv.create(scratch, with_pip=False, symlinks=True)
        assert main(["pip", "install", "hello", "--python", str(scratch / "bin" / "python"), "-q",
                     "--default-index", server.url, "--cache-dir", str(pristine)]) == 0
    cache = tmp_path / "cache"
    shutil.copytree(pristine, cache, symlinks=True)
    CACHE_DAMAGE[case](cache)
    target = tmp_path / "env"
    venv.create(target, with_pip=False, symlinks=True)
    before = _tree(target)
    capsys.readouterr()

    for network in (["--offline"], []):
        code = main(["pip", "install", "hello", "--python", str(target / "bin" / "python"), *network,
                     "--default-index", server.url, "--cache-dir", str(cache), "--link-mode", "copy"])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err and "Unexpected failure" not in err, err
        if code == 0:
            break
        assert code == 2 and "error:" in err, err
        assert _tree(target) == before
    assert code == 0, err
    site = next(target.glob("lib/python*/site-packages"))
    assert (site / "hello" / "__init__.py").read_text() == "X = 1\n"
    assert (site / "hello" / "empty.py").is_file() and (site / "hello" / "empty.py").read_bytes() == b""
