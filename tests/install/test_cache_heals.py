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


def _installed_once(tmp_path: Path, index_server, **server_options: object):
    """hello 1.0 installed once into a new environment, filling the cache; an
    installer into further environments with that cache, the cache and the index."""
    dists = tmp_path / "dists"
    build_wheel(dists, "hello", "1.0", {"hello/__init__.py": "GREETING = 'hello, whole'\n"})
    server = index_server(dists, **server_options)
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


@pytest.fixture
def setup(tmp_path, index_server):
    return _installed_once(tmp_path, index_server)


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


@pytest.fixture
def unhashed(tmp_path, index_server):
    """As *setup*, from an index whose page gives no hash for the wheel."""
    page = b'<a href="/files/hello-1.0-py3-none-any.whl">hello-1.0-py3-none-any.whl</a>'
    return _installed_once(tmp_path, index_server, pages={"hello": ("text/html", page)})


@pytest.mark.parametrize(
    ("truncate", "extra", "downloads"),
    [(False, ["--offline"], 1), (True, [], 2)],
    ids=["whole copy reused offline", "truncated copy downloaded again"],
)
def test_a_wheel_the_index_gave_no_hash_for_is_reused_while_a_zip(unhashed, truncate, extra, downloads, capsys):
    install, cache, server = unhashed
    wheel = _wheel_in(cache)
    if truncate:
        wheel.write_bytes(wheel.read_bytes()[:100])

    code, venv = install("second", *extra)

    assert code == 0, capsys.readouterr().err
    assert _greeting(venv) == "hello, whole"
    assert sum(1 for r in server.requests if r.path.endswith(".whl") and r.status == 200) == downloads


def test_a_directory_where_a_cached_wheel_belongs_is_replaced(setup, capsys):
    install, cache, server = setup
    wheel = _wheel_in(cache)
    wheel.unlink()
    (wheel / "stray").mkdir(parents=True)
    for tree in cache.glob("archive-v*/*"):
        subprocess.run(["rm", "-rf", str(tree)], check=True)

    code, venv = install("second")

    assert code == 0, capsys.readouterr().err
    assert _greeting(venv) == "hello, whole"
    assert wheel.is_file()


def test_a_damaged_tree_is_replaced_whole_with_the_temporary_directory_on_another_device(
    setup, capsys, monkeypatch
):
    # The damaged tree must be moved aside within the cache: a rename to the
    # system's temporary directory fails across devices, and the old tree
    # would be kept.
    install, cache, _ = setup
    other_device = Path("/dev/shm")
    if not other_device.is_dir() or other_device.stat().st_dev == cache.stat().st_dev:
        pytest.skip("needs a temporary directory on another device than the cache")
    monkeypatch.setenv("TMPDIR", str(other_device))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    tree = _tree_in(cache)
    (tree / "hello-1.0.dist-info" / "METADATA").write_bytes(b"\x00\xff garbage")

    code, venv = install("second")

    assert code == 0, capsys.readouterr().err
    assert run(["pip", "show", "--python", str(venv / "bin" / "python"), "hello"]) == 0
    # Nothing is left beside the healed tree.
    assert [p.name for p in tree.parent.iterdir()] == [tree.name]


def test_a_file_that_cannot_be_fetched_is_named_with_the_reason(tmp_path, index_server, capsys):
    dists = tmp_path / "dists"
    build_wheel(dists, "hello", "1.0", {"hello/__init__.py": ""})
    # The metadata resolves (PEP 658); the file itself answers with a lasting server error.
    server = index_server(dists, metadata=True, file_status={"hello-1.0-py3-none-any.whl": 503})
    venv = tmp_path / "venv"
    assert run(["venv", str(venv), "-q"]) == 0
    capsys.readouterr()

    code = run(["pip", "install", "--python", str(venv / "bin" / "python"), "--no-config",
                "--cache-dir", str(tmp_path / "cache"), "--default-index", server.url, "hello"])

    err = capsys.readouterr().err
    assert code == 2, err
    assert "Could not download hello-1.0-py3-none-any.whl: HTTP 503" in err and "Traceback" not in err
