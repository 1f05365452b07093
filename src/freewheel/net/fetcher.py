"""Fetch ``http(s)://`` and ``file://`` URLs.

One :class:`Fetcher` per run holds one HTTP/2 connection pool, bounds
concurrency, retries what is worth retrying, and attaches credentials from a
:class:`~freewheel.net.auth.CredentialStore` to each request, redirects
included, by the URL each hop goes to. Caching and range reads belong to
later layers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import mimetypes
import os
import random
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from freewheel import __version__
from freewheel.errors import UsageError
from freewheel.models import redact_url, strip_credentials
from freewheel.net.auth import KEYRING_PROVIDERS, Credentials, CredentialStore

DEFAULT_USER_AGENT = f"freewheel/{__version__}"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
MAX_REDIRECTS = 10
#: Longest wait a server's ``Retry-After`` may impose, in seconds.
MAX_RETRY_AFTER = 60.0
#: Longest wait between tries without ``Retry-After``, in seconds.
MAX_BACKOFF = 10.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclasses.dataclass(frozen=True)
class Response:
    """A complete response: HTTP errors are responses too, not exceptions.

    ``url`` is the final URL after redirects, without credentials, so that
    links resolved against it never embed a password. ``headers`` look up
    names case-insensitively.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes


class FetchError(Exception):
    """No response at all: connection refused, DNS failure, timeout, TLS...

    ``url`` is redacted; ``reason`` is a short phrase for messages.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(f"{self.url}: {reason}")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _describe(exc: httpx.TransportError) -> str:
    """A short phrase for why no response came; the root cause says most."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "could not resolve the host name"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})"
    return str(exc) or type(exc).__name__


def _read_file_url(url: str) -> Response:
    """Serve a ``file://`` URL the way a static web server would."""
    parts = urlsplit(url)
    path = Path(url2pathname(unquote(parts.path)))
    if path.is_dir():
        if not url.endswith("/"):
            # Relative links on the page must resolve inside the directory.
            url += "/"
        path = path / "index.html"
    try:
        content = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return Response(url=url, status=404, headers=httpx.Headers(), content=b"")
    except OSError as exc:
        raise FetchError(url, exc.strerror or str(exc)) from None
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = httpx.Headers({"Content-Type": content_type, "Content-Length": str(len(content))})
    return Response(url=url, status=200, headers=headers, content=content)


def trust_store(environ: Mapping[str, str]) -> ssl.SSLContext:
    """The certificates to trust: ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE``
    when set, else the system's store.

    The system store, not a bundle shipped with a Python package, is what
    company proxies and mirrors add their certificates to, and what curl
    and pip trust on such machines.
    """
    bundle = environ.get("SSL_CERT_FILE") or environ.get("REQUESTS_CA_BUNDLE")
    if bundle:
        return ssl.create_default_context(cafile=bundle)
    context = ssl.create_default_context()
    if not context.get_ca_certs() and not ssl.get_default_verify_paths().capath:
        # No system store at all (some minimal containers): fall back to
        # the bundle httpx ships with rather than trust nothing.
        import certifi

        context.load_verify_locations(certifi.where())
    return context


class Fetcher:
    """Fetch URLs over one pooled HTTP/2 client, at most *max_concurrency* at once."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_concurrency: int = 50,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self._client = httpx.AsyncClient(
            http2=True,
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": user_agent},
            verify=trust_store(os.environ),
            # trust_env (the default) honours the proxy variables, as users
            # of pip and uv expect.
        )
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._credentials: dict[_Origin, tuple[str, str]] = {}

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        """GET *url* and return the response, whatever its status.

        Credentials in *url* are remembered for its origin and sent as Basic
        auth to that origin only: a redirect to another host drops them.
        Raises :class:`FetchError` when no response could be obtained.
        """
        if url.startswith("file:"):
            return await asyncio.to_thread(_read_file_url, url)
        bare_url, credentials, origin = _strip_credentials(url)
        if credentials is not None:
            self._credentials[origin] = credentials
        credentials = self._credentials.get(origin)
        auth = httpx.BasicAuth(*credentials) if credentials else None
        async with self._semaphore:
            try:
                response = await self._client.get(bare_url, headers=headers, auth=auth)
            except httpx.TransportError as exc:
                raise FetchError(url, _describe(exc)) from None
            except httpx.InvalidURL as exc:
                raise FetchError(url, f"invalid URL ({exc})") from None
        return Response(
            url=str(response.url),
            status=response.status_code,
            headers=response.headers,
            content=response.content,
        )

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
