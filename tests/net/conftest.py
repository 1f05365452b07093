"""Small purpose-built servers for the fetcher's network behaviour."""

from __future__ import annotations

import base64
import dataclasses
import shutil
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.builders import make_wheel


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer; ``auth`` demands these Basic credentials first."""

    status: int = 200
    body: bytes = b"ok"
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    auth: tuple[str, str] | None = None
    delay: float = 0.0
    #: Seconds between the body's bytes (a server that trickles).
    trickle: float = 0.0


@dataclasses.dataclass(frozen=True)
class Seen:
    """A request as the server saw it; ``headers`` keys are lower-case."""

    path: str
    headers: Mapping[str, str]
    at: float

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        if not value.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


class _ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are recorded instead."""

    def do_GET(self) -> None:
        scripted = self.server.scripted
        headers = {k.lower(): v for k, v in self.headers.items()}
        scripted.requests.append(Seen(self.path, headers, time.monotonic()))
        reply = scripted.next_reply(self.path.split("?", 1)[0])
        time.sleep(reply.delay)
        seen = scripted.requests[-1]
        if reply.auth is not None and seen.basic_auth != reply.auth:
            reply = Reply(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="t"'})
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        try:
            if reply.trickle:
                for index in range(len(reply.body)):
                    self.wfile.write(reply.body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
            else:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The client gave up (a timeout test); nothing to report.


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    scripted: ScriptedServer


class ScriptedServer:
    """Answers each path with its scripted replies in order, the last repeating.

    Unscripted paths get a 404. With *tls*, serves HTTPS with that context.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Seen] = []
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _ScriptedHandler)
        self._server.scripted = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}/"

    def script(self, path: str, *replies: Reply) -> None:
        self._routes[path] = list(replies)

    def next_reply(self, path: str) -> Reply:
        with self._lock:
            replies = self._routes.get(path)
            if not replies:
                return Reply(404, b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def seen(self, path: str) -> list[Seen]:
        return [request for request in self.requests if request.path == path]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted servers: ``scripted(tls=None)``; all stop at the end."""
    servers: list[ScriptedServer] = []

    def start(tls: ssl.SSLContext | None = None) -> ScriptedServer:
        servers.append(ScriptedServer(tls))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        # A forwarding proxy gets the absolute URL as the request target.
        self.server.forwarded.append(self.path)
        request = urllib.request.Request(self.path, headers=dict(self.headers.items()))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request) as upstream:
                status, body = upstream.status, upstream.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    forwarded: list[str]


@pytest.fixture
def forwarding_proxy() -> Iterator[_ProxyServer]:
    """A plain-HTTP forwarding proxy; ``.forwarded`` lists the URLs it relayed."""
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.forwarded = []
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(certificate, key)`` for 127.0.0.1, made by the ``openssl`` command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [openssl, "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
    command += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


@pytest.fixture(autouse=True)
def default_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about retries: undo the suite-wide ``FREEWHEEL_HTTP_RETRIES=0``."""
    monkeypatch.delenv("FREEWHEEL_HTTP_RETRIES", raising=False)


def serve_demo(server: ScriptedServer, tmp_path: Path, **reply: object) -> str:
    """Script *server* as an index offering demo 1.0; return the index URL."""
    wheel = make_wheel(tmp_path / "dists", "demo", "1.0")
    page = f'<a href="/files/{wheel.filename}#sha256={wheel.sha256}">{wheel.filename}</a>'.encode()
    server.script("/simple/demo/", Reply(200, page, headers={"Content-Type": "text/html"}, **reply))
    server.script(f"/files/{wheel.filename}", Reply(200, wheel.path.read_bytes(), **reply))
    return server.url + "simple/"
