"""A run the cache serves whole pays only for what it uses.

Once a compile has filled the cache, compiling again (``--offline``, or
online while the index's pages are fresh) needs no network stack (httpx's,
or asyncio and ssl, which freewheel's own transport runs on) and no
background thread: it reads the parsed pages and metadata kept in the cache.
The tests run freewheel where those cannot be had: packages named like the
network stack that fail to import, and a ``threading`` whose threads refuse to
start (``sitecustomize``, as a locked-down interpreter might have). Whatever
freewheel needed from them would fail the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.builders import make_wheel
from support.cli import freewheel

#: httpx and its stack, which only proxies and hosts whose certificates go
#: unchecked need.
_HTTP_STACK = ("httpx", "h2", "anyio", "httpcore")
#: And what freewheel's own transport runs on.
_NETWORK_STACK = (*_HTTP_STACK, "asyncio", "ssl")

_NO_THREADS = '''\
import threading


def _refuse(self):
    raise RuntimeError("this interpreter starts no threads")


threading.Thread.start = _refuse
'''


def _without_network_stack_or_threads(
    root: Path, *, threads: bool = False, withheld: tuple[str, ...] = _NETWORK_STACK
) -> dict[str, str]:
    """Environment variables that put the stubs of *root* first on the path:
    the *withheld* packages, and with *threads*, threads are not withheld."""
    for name in withheld:
        package = root / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('{name} is not available here')\n")
    if not threads:
        (root / "sitecustomize.py").write_text(_NO_THREADS)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}


@pytest.fixture
def filled(tmp_path: Path, index_server):
    """A compile of app (app -> lib -> leaf) that filled a cache, and how to run another."""
    dists = tmp_path / "dists"
    make_wheel(dists, "app", "1.0", ["lib>=1"])
    make_wheel(dists, "lib", "1.0", ["leaf"])
    make_wheel(dists, "lib", "2.0", ["leaf<2"])
    make_wheel(dists, "leaf", "1.0")
    make_wheel(dists, "leaf", "2.0")
    server = index_server(dists, page_headers={"Cache-Control": "max-age=600"})
    (tmp_path / "requirements.in").write_text("app\n")

    def compile_(*extra: str, env: dict[str, str] | None = None):
        return freewheel(
            "pip", "compile", "--no-config", "--cache-dir", tmp_path / "cache", "--default-index", server.url,
            "--no-header", "--no-annotate", "requirements.in", *extra, cwd=tmp_path, env=env,
        )

    first = compile_()
    assert first.returncode == 0, first.stderr
    server.requests.clear()
    return compile_, first.stdout, server


@pytest.mark.parametrize("mode", [["--offline"], []], ids=["offline", "online-fresh"])
def test_a_warm_compile_needs_no_http_stack_and_no_thread(filled, tmp_path: Path, mode: list[str]) -> None:
    compile_, pins, server = filled
    env = _without_network_stack_or_threads(tmp_path / "stubs")
    again = compile_(*mode, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == pins == "app==1.0\nleaf==1.0\nlib==2.0\n"
    assert server.requests == []


def test_a_cold_compile_over_direct_connections_needs_no_http_stack(tmp_path: Path, index_server) -> None:
    """freewheel's own transport serves every request that goes straight to
    a server, so a cold compile never loads httpx and its stack (a proxy, or
    a host whose certificate goes unchecked, still needs them)."""
    dists = tmp_path / "dists"
    make_wheel(dists, "app", "1.0", ["lib"])
    make_wheel(dists, "lib", "1.0")
    server = index_server(dists)
    (tmp_path / "requirements.in").write_text("app\n")
    cold = freewheel(
        "pip", "compile", "--no-config", "--cache-dir", tmp_path / "cache", "--default-index", server.url,
        "--no-header", "--no-annotate", "requirements.in", cwd=tmp_path,
        env=_without_network_stack_or_threads(tmp_path / "stubs", threads=True, withheld=_HTTP_STACK),
    )
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout == "app==1.0\nlib==1.0\n"


def test_the_stubs_stop_a_run_that_needs_the_network(filled, tmp_path: Path) -> None:
    """The environment above really withholds the network: a run that must
    ask the index (--refresh) cannot complete in it."""
    compile_, _, _ = filled
    env = _without_network_stack_or_threads(tmp_path / "stubs")
    refreshed = compile_("--refresh", env=env)
    assert refreshed.returncode != 0


@pytest.mark.parametrize(
    ("cache_control", "extra", "lib"),
    [
        ("max-age=600", [], "2.0"),  # fresh: the kept page answers
        ("max-age=600", ["--refresh"], "3.0"),
        ("max-age=600", ["--refresh-package", "lib"], "3.0"),
        ("max-age=0", [], "3.0"),  # stale: asked again
        ("no-store", [], "3.0"),
        ("no-store", ["--offline"], "2.0"),
    ],
)
def test_kept_pages_answer_only_while_their_response_may(
    tmp_path: Path, index_server, cache_control: str, extra: list[str], lib: str
) -> None:
    """A page kept parsed is reused exactly when its HTTP response could be."""
    dists = tmp_path / "dists"
    make_wheel(dists, "lib", "1.0")
    make_wheel(dists, "lib", "2.0")
    server = index_server(dists, page_headers={"Cache-Control": cache_control})
    (tmp_path / "requirements.in").write_text("lib\n")

    def compile_(*options: str) -> str:
        done = freewheel(
            "pip", "compile", "--no-config", "--cache-dir", tmp_path / "cache", "--default-index", server.url,
            "--no-header", "--no-annotate", "requirements.in", *options, cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert compile_() == "lib==2.0\n"
    make_wheel(dists, "lib", "3.0")
    assert compile_(*extra) == f"lib=={lib}\n"


def _lib_index(tmp_path: Path, index_server, **options):
    """An index of lib 1.0 and 2.0, and a compile of ``lib`` that returns
    the finished process."""
    dists = tmp_path / "dists"
    make_wheel(dists, "lib", "1.0")
    make_wheel(dists, "lib", "2.0")
    server = index_server(dists, **options)
    (tmp_path / "requirements.in").write_text("lib\n")

    def compile_(*extra: str):
        return freewheel(
            "pip", "compile", "--no-config", "--cache-dir", tmp_path / "cache", "--default-index", server.url,
            "--no-header", "--no-annotate", "requirements.in", *extra, cwd=tmp_path,
        )

    return dists, server, compile_


def test_a_kept_page_the_index_confirms_unchanged_answers_again(tmp_path: Path, index_server) -> None:
    """A page kept parsed is revalidated with its validators: a 304 keeps
    it, a changed page replaces it."""
    dists, server, compile_ = _lib_index(
        tmp_path, index_server, page_etag=True, page_headers={"Cache-Control": "no-cache"}
    )
    assert compile_().stdout == compile_().stdout == "lib==2.0\n"
    first, second = [r for r in server.requests if r.path == "/simple/lib/"]
    assert (first.status, "if-none-match" in first.headers) == (200, False)
    assert (second.status, "if-none-match" in second.headers) == (304, True)
    make_wheel(dists, "lib", "3.0")
    assert compile_().stdout == "lib==3.0\n"
    assert [r.status for r in server.requests if r.path == "/simple/lib/"] == [200, 304, 200]


@pytest.mark.parametrize(("cache_control", "served"), [("max-age=0", True), ("max-age=0, must-revalidate", False)])
def test_a_stale_page_answers_when_the_index_cannot_be_reached_unless_it_must_revalidate(
    tmp_path: Path, index_server, cache_control: str, served: bool
) -> None:
    _, server, compile_ = _lib_index(tmp_path, index_server, page_headers={"Cache-Control": cache_control})
    assert compile_().stdout == "lib==2.0\n"
    server.stop()
    again = compile_()
    assert (again.returncode == 0) is served, again.stderr
    assert again.stdout == ("lib==2.0\n" if served else "")
    assert "Traceback" not in again.stderr


def test_offline_versions_missing_from_the_cache_are_one_reason_and_a_hint(tmp_path: Path, index_server) -> None:
    """Offline, each version whose files the cache lacks cannot be used; the
    report says so once for all of them, and the hint says how to fill the cache."""
    dists = tmp_path / "dists"
    for v in range(1, 7):
        make_wheel(dists, "lib", f"{v}.0")
    server = index_server(dists)
    (tmp_path / "requirements.in").write_text("lib\n")

    def compile_(*extra: str):
        return freewheel(
            "pip", "compile", "--no-config", "--cache-dir", tmp_path / "cache", "--default-index", server.url,
            "--no-header", "requirements.in", *extra, cwd=tmp_path,
        )

    assert compile_().stdout.startswith("lib==6.0\n")
    (tmp_path / "requirements.in").write_text("lib<6\n")
    offline = compile_("--offline")
    assert offline.returncode == 1, offline.stderr
    assert offline.stderr.count("cannot be used") == 1, offline.stderr
    assert (
        "lib>=1.0,<=5.0 cannot be used (could not download its files: not in the cache, and --offline forbids the network)"
        in offline.stderr
    )
    assert "hint: The cache lacks files of lib, and --offline reads nothing else" in offline.stderr
