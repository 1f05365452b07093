"""A password in an index URL never shows: not in messages, logs, output
files or the cache. Checked on what the command line prints and writes,
whatever helper does the redacting."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from support.builders import make_wheel

from freewheel.__main__ import main

SECRET = "s3cret-pass"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def everything_written(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.in").write_text("demo\n")
    return tmp_path


def compile_(capsys, *args: str) -> tuple[int, str]:
    code = main(["pip", "compile", "requirements.in", "--no-config", "--cache-dir", "cache", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_an_unreachable_index_is_named_without_its_password(work, capsys):
    port = closed_port()
    url = f"http://alice:{SECRET}@127.0.0.1:{port}/simple/"
    code, shown = compile_(capsys, "--default-index", url, "-v")
    assert code == 2
    assert f"127.0.0.1:{port}/simple/" in shown
    assert SECRET not in shown


def test_a_refusing_index_is_named_without_its_password(work, capsys, index_server, tmp_path):
    make_wheel(tmp_path / "dists", "demo", "1.0")
    server = index_server(tmp_path / "dists", auth=("alice", "right"))
    code, shown = compile_(capsys, "--default-index", server.url.replace("://", f"://alice:{SECRET}@"))
    assert code == 2
    assert "401" in shown
    assert SECRET not in shown


def test_a_private_index_leaves_no_password_in_output_logs_or_cache(work, capsys, index_server, tmp_path):
    make_wheel(tmp_path / "dists", "demo", "1.0")
    server = index_server(tmp_path / "dists", auth=("alice", SECRET))
    url = server.url.replace("://", f"://alice:{SECRET}@")
    code, shown = compile_(capsys, "--index-url", url, "-v", "-o", "pinned.txt",
                           "--emit-index-annotation", "--generate-hashes")
    assert code == 0, shown
    assert "demo==1.0" in shown
    assert SECRET not in shown
    assert SECRET.encode() not in (work / "pinned.txt").read_bytes()
    assert SECRET.encode() not in everything_written(work / "cache")
