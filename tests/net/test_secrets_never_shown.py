"""Credentials given in index URLs never reach anything freewheel prints or
writes: standard output and error (with and without ``-v``, on success and
on failure), the compiled file, and every file of the cache."""

from __future__ import annotations

import base64
import uuid

import pytest
from support.builders import make_wheel

from freewheel.cli import run

USER = f"user-{uuid.uuid4().hex}"
PASSWORD = f"secret-{uuid.uuid4().hex}"


@pytest.fixture
def private(tmp_path, index_server):
    """An index that wants Basic credentials: lib 1.0 and 2.0 (yanked), app -> lib."""
    dists = tmp_path / "dists"
    make_wheel(dists, "app", "1.0", ["lib>=1"])
    make_wheel(dists, "lib", "1.0")
    make_wheel(dists, "lib", "2.0")
    return index_server(dists, auth=(USER, PASSWORD), yanked={"lib-2.0-py3-none-any.whl": "bad"})


def _with(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{user}:{password}@", 1)


def test_index_credentials_never_show(private, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cache = tmp_path / "cache"
    secret_url = _with(private.url, USER, PASSWORD)
    (work / "requirements.in").write_text(f"--extra-index-url {_with(private.url, USER, PASSWORD)}x/\napp\n")
    (work / "pins.in").write_text("lib==2.0\n")
    (work / "missing.in").write_text("no-such-project\n")
    (work / "never-asked.in").write_text("never-asked\n")
    (work / "direct.in").write_text(f"lib @ {private.files_url.replace('http://', f'http://{USER}:{PASSWORD}@')}lib-1.0-py3-none-any.whl\n")
    common = ["--no-config", "--cache-dir", str(cache)]
    runs = [
        (0, ["pip", "compile", "requirements.in", "--index-url", secret_url, "-o", "out.txt",
             "--emit-index-url", "--emit-index-annotation", "-v"]),
        (0, ["pip", "compile", "pins.in", f"--index-url={secret_url}", "--emit-index-url",
             "--custom-compile-command", f"make lock INDEX={secret_url}"]),
        (0, ["pip", "compile", "requirements.in", "--index", f"private={secret_url}", "--index-strategy",
             "unsafe-best-match", "-v", "--refresh", "--default-index", secret_url]),
        (1, ["pip", "compile", "missing.in", "--index-url", secret_url, "-v"]),
        (1, ["explain", "lib>=3", "--index-url", secret_url, "-v"]),
        (0, ["explain", "lib", "--index-url", secret_url]),
        # Wrong credentials (asked again, not answered by the page cached
        # minutes ago), and an index that does not answer at all.
        (2, ["pip", "compile", "pins.in", "--index-url", _with(private.url, USER, PASSWORD + "x"), "-v", "--refresh"]),
        (2, ["pip", "compile", "pins.in", "--index-url", _with("http://127.0.0.1:9/simple/", USER, PASSWORD)]),
        (2, ["pip", "compile", "never-asked.in", "--index-url", secret_url, "--offline"]),
        (0, ["pip", "compile", "direct.in", "--index-url", secret_url]),
    ]
    assert run(["venv", str(tmp_path / "venv"), "-q", "--no-config"]) == 0
    installs = [
        (0, ["pip", "install", "app", "lib==2.0", "--index-url", secret_url, "-v"]),
        (0, ["pip", "install", "app", "--index-url", secret_url, "--dry-run", "--reinstall"]),
        (1, ["pip", "install", "app", "--index-url", secret_url, "--only-binary", ":all:", "--no-binary", "app",
             "--reinstall"]),
    ]
    python = ["--python", str(tmp_path / "venv" / "bin" / "python")]
    runs = [(code, [*argv, "--python-version", "3.11"]) for code, argv in runs]
    shown = []
    for expected, argv in [*runs, *((code, [*argv, *python]) for code, argv in installs)]:
        code = run([*argv, *common])
        out, err = capsys.readouterr()
        assert code == expected, (argv, err)
        shown.append(out + err)
    written = [path.read_bytes() for path in [work / "out.txt", *cache.rglob("*")] if path.is_file()]
    assert "--index-url http://127.0.0.1" in (work / "out.txt").read_text()
    assert len(written) > 10

    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode())
    for text in shown:
        assert USER not in text and PASSWORD not in text, text
    for data in written:
        assert USER.encode() not in data and PASSWORD.encode() not in data and basic not in data
