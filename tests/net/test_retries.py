"""Retries, backoff, Retry-After and timeouts."""

from __future__ import annotations

import asyncio
import email.utils
import socket

import pytest

from freewheel.errors import UsageError
from freewheel.net import Fetcher, FetchError
from freewheel.net.fetcher import MAX_RETRY_AFTER, retry_after

from .conftest import Reply


def fetch(url, **options):
    options = {"timeout": 5, "backoff": 0.01, **options}

    async def run():
        async with Fetcher(**options) as fetcher:
            return await fetcher.get(url)

    return asyncio.run(run())


def test_a_server_error_is_retried_until_it_passes(scripted):
    server = scripted()
    server.script("/page", Reply(503), Reply(502), Reply(200, b"finally"))
    response = fetch(server.url + "page")
    assert (response.status, response.content) == (200, b"finally")
    assert len(server.seen("/page")) == 3


def test_too_many_requests_is_retried(scripted):
    server = scripted()
    server.script("/page", Reply(429), Reply(200))
    assert fetch(server.url + "page").status == 200
    assert len(server.seen("/page")) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_answered_at_once(scripted, status):
    server = scripted()
    server.script("/page", Reply(status), Reply(200))
    assert fetch(server.url + "page").status == status
    assert len(server.seen("/page")) == 1


def test_retry_after_is_waited_for(scripted):
    server = scripted()
    server.script("/page", Reply(503, headers={"Retry-After": "1"}), Reply(200))
    assert fetch(server.url + "page").status == 200
    first, second = server.seen("/page")
    # The backoff alone would have waited about 10 ms.
    assert second.at - first.at >= 0.95


def test_a_lasting_failure_says_how_many_tries_were_made(scripted):
    server = scripted()
    server.script("/page", Reply(503))
    with pytest.raises(FetchError) as caught:
        fetch(server.url + "page", retries=2)
    assert caught.value.reason == "HTTP 503 Service Unavailable (gave up after 3 tries)"
    assert len(server.seen("/page")) == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_failures_are_retried_and_counted(monkeypatch):
    monkeypatch.setenv("FREEWHEEL_HTTP_RETRIES", "1")
    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{_closed_port()}/")
    assert caught.value.reason == "connection refused (gave up after 2 tries)"


def test_without_retries_the_reason_is_plain():
    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{_closed_port()}/", retries=0)
    assert caught.value.reason == "connection refused"


def test_the_timeout_comes_from_the_environment(scripted, monkeypatch):
    server = scripted()
    server.script("/slow", Reply(200, delay=0.5))
    monkeypatch.setenv("FREEWHEEL_HTTP_TIMEOUT", "0.1")
    monkeypatch.setenv("FREEWHEEL_HTTP_RETRIES", "0")
    with pytest.raises(FetchError) as caught:
        fetch(server.url + "slow", timeout=None)
    assert caught.value.reason == "timed out"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FREEWHEEL_HTTP_RETRIES", "three"),
        ("FREEWHEEL_HTTP_RETRIES", "-1"),
        ("FREEWHEEL_HTTP_TIMEOUT", "soon"),
    ],
)
def test_a_bad_setting_is_a_usage_error(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=f"{name}='{value}' is not a valid value"):
        Fetcher()


def test_retry_after_reads_seconds_and_dates_and_is_capped():
    now = 1_000_000.0
    assert retry_after("7", now) == 7.0
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(30.0)
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after("86400", now) == MAX_RETRY_AFTER
    assert retry_after("tomorrow", now) is None
    assert retry_after(None, now) is None


@pytest.mark.timeout(60)
def test_a_server_that_trickles_is_given_up_on(scripted, tmp_path, monkeypatch, capsys):
    """Each read arrives within the timeout, so only an overall deadline,
    growing with what arrives, ends the wait: exit 2 with a clear reason."""
    from freewheel.cli import run

    server = scripted()
    page = b'<html><body><a href="/files/demo-1.0-py3-none-any.whl">demo</a>' + b" " * 400 + b"</body></html>"
    server.script("/simple/demo/", Reply(200, page, {"Content-Type": "text/html"}, trickle=0.05))
    monkeypatch.setenv("FREEWHEEL_HTTP_TIMEOUT", "1")
    (tmp_path / "r.in").write_text("demo\n")
    code = run(["pip", "compile", "--no-config", "--cache-dir", str(tmp_path / "c"),
                "--default-index", server.url + "simple/", str(tmp_path / "r.in")])
    err = capsys.readouterr().err
    assert code == 2
    assert "too slow" in err and "Traceback" not in err
