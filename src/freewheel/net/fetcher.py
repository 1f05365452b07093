"""Fetch ``http(s)://`` and ``file://`` URLs.

One :class:`Fetcher` per run holds one connection pool, bounds
concurrency, retries what is worth retrying, and attaches credentials from a
:class:`~freewheel.net.auth.CredentialStore` to each request, redirects
included, by the URL each hop goes to. Caching and range reads belong to
later layers.

Making a :class:`Fetcher` loads nothing of the network: asyncio, ssl and the
transports are imported by the first request that needs them, so a run the
cache serves whole never pays for them.
"""

from __future__ import annotations

import base64
import functools
import os
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urljoin, urlsplit

from freewheel import __version__
from freewheel.config.settings import KEYRING_PROVIDERS
from freewheel.errors import UsageError
from freewheel.net.auth import Credentials, CredentialStore
from freewheel.net.response import DEFAULT_PORTS, Closing, FetchError, Headers, Response, request_header
from freewheel.util.fs import file_url_path
from freewheel.util.urls import strip_credentials

if TYPE_CHECKING:
    import asyncio
    import ssl

    # Imported only for proxies and unchecked hosts, which freewheel's own
    # transport does not serve, and URLs that need rewriting: other runs
    # never load httpx and its stack.
    import httpx

    from freewheel.net.transport import Http11Transport, Reply

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
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _no_answer(exc: Exception) -> bool:
    """Whether *exc* says no whole answer came, from either transport."""
    from freewheel.net.transport import TransportError

    if isinstance(exc, TransportError):
        return True
    # httpx is only loaded once its client served a request.
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(exc, (httpx.TransportError, httpx.DecodingError))


def _describe(exc: Exception) -> str:
    """A short phrase for why no response came; the root cause says most."""
    import socket
    import ssl

    from freewheel.net.transport import TransportTimeout

    httpx = sys.modules.get("httpx")
    if isinstance(exc, TransportTimeout) or (httpx is not None and isinstance(exc, httpx.TimeoutException)):
        return "timed out"
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "could not resolve the host name"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS error (certificate not trusted: {cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or cause})"
    return str(exc) or type(exc).__name__


def _tries(reason: str, tries: int) -> str:
    return reason if tries == 1 else f"{reason} (gave up after {tries} tries)"


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP
    date), capped at :data:`MAX_RETRY_AFTER`; ``None`` if absent or unreadable.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        delay = float(value)
    else:
        import email.utils

        try:
            delay = email.utils.parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    return min(max(delay, 0.0), MAX_RETRY_AFTER)


_Number = TypeVar("_Number", int, float)


def _setting(
    environ: Mapping[str, str], name: str, kind: Callable[[str], _Number], default: _Number
) -> _Number:
    """A non-negative number from the environment variable *name*."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if not value >= 0:  # also refuses NaN
        raise UsageError(f"{name}={raw!r} is not a valid value: expected a non-negative number.")
    return value


def _insecure_mount(host: str) -> str:
    """The httpx mount pattern for an ``--allow-insecure-host`` entry.

    Entries are a host, ``host:port`` or a URL, as uv takes them; without a
    port every port of the host is covered.
    """
    parts = urlsplit(host if "://" in host else f"//{host}")
    try:
        port = parts.port
    except ValueError:
        port = None
        hostname = None
    else:
        hostname = parts.hostname
    if not hostname:
        raise UsageError(f"{host!r} is not a host name for --allow-insecure-host.")
    return f"https://{hostname}" + (f":{port}" if port is not None else "")


def _environment_proxy(mount: str) -> str | None:
    """The proxy the environment sets for the host of *mount*, if any.

    A mounted transport bypasses httpx's own reading of the proxy
    variables, so the insecure hosts' transports must be given theirs.
    """
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    host = urlsplit(mount).netloc
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxies.get("https") or proxies.get("all")


def _proxied(environ: Mapping[str, str]) -> bool:
    """Whether *environ* names a proxy, which httpx's own transports then
    reach (and ``NO_PROXY`` steers) as pip users expect."""
    return any(environ[name] for name in environ if name.lower() in _PROXY_VARIABLES)


#: A URL that httpx would send as it is: ``http`` or ``https``, a lower-case
#: host name, no user info, a port that is not the scheme's own, and a path
#: of characters sent unescaped (or escapes), without query or fragment.
_PLAIN_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"(?P<path>(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*)"
)
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")


def _plain(url: str) -> bool:
    """Whether *url* is sent unchanged (see :data:`_PLAIN_URL`): most URLs a
    run fetches, from index pages that already escape what needs it."""
    match = _PLAIN_URL.fullmatch(url)
    if match is None or _DOT_SEGMENT.search(match["path"]):
        return False
    port, host = match["port"], match["host"]
    if port is not None and (int(port) > 65535 or int(port) == DEFAULT_PORTS[match["scheme"]]):
        return False
    # httpx checks a host shaped like an IPv4 address as one.
    numbers = host.split(".")
    if len(numbers) == 4 and all(n.isdigit() for n in numbers):
        return all(n == "0" or (n[0] != "0" and len(n) <= 3 and int(n) <= 255) for n in numbers)
    return True


@functools.lru_cache(maxsize=4096)
def request_url(url: str) -> str:
    """*url* as it will be sent: escaped where needed, dot segments resolved,
    a default port dropped, exactly as httpx spells it; credentials are
    matched against it, the path the server will see. Remembered, since a
    range read asks for the same file's URL three times.

    :raises FetchError: for a URL that cannot be sent.
    """
    if _plain(url):
        return url
    # The rare URL that needs rewriting is left to httpx, whose rules these
    # are (tested against it), rather than a second copy of them.
    import httpx

    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL as exc:
        raise FetchError(url, f"invalid URL ({exc})") from None


def _basic_authorization(credentials: Credentials) -> str:
    """The ``Authorization`` value for *credentials*, as ``httpx.BasicAuth`` writes it.

    A user name alone is sent with an empty password, as pip does: some
    indexes take a token as the user name.
    """
    pair = f"{credentials.username}:{credentials.password or ''}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _read_file_url(url: str, path: Path) -> Response:
    """Serve the ``file://`` URL of *path* the way a static web server would."""
    if path.is_dir():
        if not url.endswith("/"):
            # Relative links on the page must resolve inside the directory.
            url += "/"
        path = path / "index.html"
    try:
        content = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return Response(url=url, status=404, headers=Headers(), content=b"")
    except OSError as exc:
        raise FetchError(url, exc.strerror or str(exc)) from None
    import mimetypes  # only for file:// URLs

    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = Headers({"Content-Type": content_type, "Content-Length": str(len(content))})
    return Response(url=url, status=200, headers=headers, content=content)


#: A response must keep up this average rate (bytes a second) once its
#: first timeout has passed.
MIN_RATE = 1024


class _TooSlow(Exception):
    """A response came in slower than :data:`MIN_RATE`."""


class _Pace:
    """A body's overall deadline, from now: raises :class:`_TooSlow` when
    called with the bytes received so far once it passed.

    The client's timeout bounds each read, so a server that sends one byte a
    second would hold a run forever. The deadline grows with what arrives:
    *timeout* seconds, plus one for every :data:`MIN_RATE` bytes received,
    so a large download on a slow but working link is never cut short.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._started = time.monotonic()

    def __call__(self, received: int) -> None:
        elapsed = time.monotonic() - self._started
        if elapsed > self._timeout + received / MIN_RATE:
            raise _TooSlow(f"the server sent {received} bytes in {elapsed:.0f} s")


async def _paced(response: Reply | httpx.Response, timeout: float) -> AsyncIterator[bytes]:
    """*response*'s body, failing once it falls behind its :class:`_Pace`."""
    pace = _Pace(timeout)
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        pace(received)
        yield chunk


async def _spool(
    response: Reply | httpx.Response, path: Path, timeout: float, until: Callable[[bytes], bytes | None] | None
) -> bytes | None:
    """Stream *response*'s body into *path*, whole or not at all.

    Each chunk is also shown to *until*, if given; once it returns bytes,
    the transfer stops there, nothing is kept, and those bytes are returned.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part.tmp")
    try:
        with partial.open("wb") as sink:
            async for chunk in _paced(response, timeout):
                found = until(chunk) if until is not None else None
                if found is not None:
                    partial.unlink()
                    return found
                sink.write(chunk)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return None


class Fetcher(Closing):
    """Fetch URLs over one pooled HTTP client, at most *max_concurrency* at once.

    *timeout* (seconds, per connect/read) and *retries* default to
    ``FREEWHEEL_HTTP_TIMEOUT`` (else 30) and ``FREEWHEEL_HTTP_RETRIES``
    (else 3). Connection failures other than TLS ones, timeouts, 5xx and
    429 are retried after ``backoff * 2**n`` seconds with jitter, or what
    ``Retry-After`` asks (at most 60 s). *cert* is a CA bundle to trust
    instead of the environment's (see :func:`trust_store`); *insecure_hosts*
    skip certificate checks (``host``, ``host:port`` or a URL).
    *credentials* default to a store with the netrc file only;
    *keyring_provider* ``"subprocess"`` asks the ``keyring`` command after
    a 401 to a URL sent without a password.
    """

    def __init__(
        self,
        *,
        timeout: float | None = None,
        max_concurrency: int = 50,
        user_agent: str = DEFAULT_USER_AGENT,
        retries: int | None = None,
        backoff: float = 0.5,
        credentials: CredentialStore | None = None,
        keyring_provider: str = "disabled",
        cert: str | os.PathLike[str] | None = None,
        insecure_hosts: Iterable[str] = (),
    ) -> None:
        if keyring_provider not in KEYRING_PROVIDERS:
            choices = ", ".join(KEYRING_PROVIDERS)
            raise UsageError(
                f"Unknown keyring provider {keyring_provider!r}: expected one of {choices}."
            )
        if timeout is None:
            timeout = _setting(os.environ, "FREEWHEEL_HTTP_TIMEOUT", float, DEFAULT_TIMEOUT)
        self._timeout = timeout
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        self._retries = retries if retries is not None else _setting(
            os.environ, "FREEWHEEL_HTTP_RETRIES", int, DEFAULT_RETRIES
        )
        self._backoff = backoff
        self._credentials = credentials or CredentialStore.from_indexes((), os.environ)
        self._keyring = keyring_provider == "subprocess"
        if cert is not None and not Path(cert).is_file():
            raise UsageError(f"The certificate bundle {os.fspath(cert)} does not exist.")
        # What httpx's client adds to each request (but for the encodings
        # of optional packages: these two are what the stdlib decodes).
        self._default_headers = {
            "User-Agent": user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
        }
        self._cert = cert
        self._insecure_mounts = [_insecure_mount(host) for host in insecure_hosts]
        self._insecure_origins = [urlsplit(mount) for mount in self._insecure_mounts]
        self._via_proxy = _proxied(os.environ)
        # Both made on first use: a run served from files and the cache
        # alone never pays for TLS contexts and connection pools, and one
        # whose requests all go direct never loads httpx.
        self._context: ssl.SSLContext | None = None
        self._direct: Http11Transport | None = None
        self._client: httpx.AsyncClient | None = None
        self._max_concurrency = max_concurrency
        self._semaphore: asyncio.Semaphore | None = None

    def _http(self) -> httpx.AsyncClient:
        """httpx's client, for what freewheel's transport does not serve."""
        if self._client is None:
            import httpx

            mounts = {
                mount: httpx.AsyncHTTPTransport(http2=True, verify=False, proxy=_environment_proxy(mount))
                for mount in self._insecure_mounts
            }
            # No default headers or timeout: every request is built by
            # _get_retrying, with both. trust_env (the default) honours the
            # proxy variables, as users of pip and uv expect.
            self._client = httpx.AsyncClient(http2=True, verify=self._trust(), mounts=mounts)
        return self._client

    def _direct_for(self, url: str) -> Http11Transport | None:
        """freewheel's own transport, if it serves *url*: every request but
        those through a proxy and those to hosts whose certificates go
        unchecked, which httpx's client serves. httpx's client cost a
        quarter of the I/O thread's CPU on a walk reading thousands of
        metadata ranges (cookies, URL merging, auth flows), none of which
        freewheel uses, since it follows redirects and sends credentials
        itself; and importing it, about 20 ms."""
        if self._via_proxy:
            return None
        if self._insecure_origins:
            parts = urlsplit(url)
            for origin in self._insecure_origins:
                if parts.scheme == origin.scheme and parts.hostname == origin.hostname and (
                    origin.port is None or parts.port == origin.port
                ):
                    return None
        if self._direct is None:
            from freewheel.net.transport import Http11Transport

            self._direct = Http11Transport(self._trust())
        return self._direct

    def _trust(self) -> ssl.SSLContext:
        """The certificates both transports trust, loaded once."""
        if self._context is None:
            from freewheel.net.tls import trust_store

            self._context = trust_store(os.environ, self._cert)
        return self._context

    def _fields(self, headers: Mapping[str, str] | None, credentials: Credentials | None) -> dict[str, str]:
        """The header fields of a request, as httpx's client would add them."""
        fields = {**self._default_headers, **(headers or {})}
        if credentials is not None:
            fields["Authorization"] = _basic_authorization(credentials)
        return fields

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        spool_to: Path | None = None,
        until: Callable[[bytes], bytes | None] | None = None,
    ) -> Response:
        """GET *url* and return the response, whatever its status.

        With *spool_to*, a 200 body is streamed into that file instead of
        memory (a whole wheel can weigh gigabytes); other bodies, and 206
        partial ones, stay in memory. With *until* too, the transfer stops
        as soon as *until* returns bytes for a chunk: the response then has
        those bytes as its ``content`` and no ``path``.

        Credentials in *url* are remembered for its scope (see
        :mod:`freewheel.net.auth`). Redirects are followed, each hop with the
        credentials of its own URL, so none cross to another host or prefix.
        Raises :class:`FetchError` when no response could be obtained, or a
        retried status lasted through every try.
        """
        import asyncio

        local = file_url_path(url)
        if local is not None:
            return await asyncio.to_thread(_read_file_url, url, local)
        hop = request_url(self._credentials.remember(url))
        for _ in range(MAX_REDIRECTS + 1):
            response, content = await self._get_authenticated(hop, headers, spool_to, until)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECT_STATUSES or location is None:
                spooled = spool_to is not None and response.status_code == 200 and not content
                return Response(
                    url=str(response.url),
                    status=response.status_code,
                    headers=response.headers,
                    content=b"" if spooled else content,
                    path=spool_to if spooled else None,
                )
            # Credentials in a Location header are not the user's to trust.
            hop = request_url(strip_credentials(urljoin(hop, location)))
        raise FetchError(url, "too many redirects")

    async def _get_authenticated(
        self,
        url: str,
        headers: Mapping[str, str] | None,
        spool_to: Path | None,
        until: Callable[[bytes], bytes | None] | None,
    ) -> tuple[Reply | httpx.Response, bytes]:
        """One hop, answering a 401 with the keyring's credentials if enabled."""
        credentials = self._credentials.lookup(url)
        answer = await self._get_retrying(url, headers, credentials, spool_to, until)
        unproven = credentials is None or credentials.password is None
        if answer[0].status_code == 401 and self._keyring and unproven:
            found = await self._credentials.ask_keyring(url)
            if found is not None:
                answer = await self._get_retrying(url, headers, found, spool_to, until)
        return answer

    async def _get_retrying(
        self,
        url: str,
        headers: Mapping[str, str] | None,
        credentials: Credentials | None,
        spool_to: Path | None,
        until: Callable[[bytes], bytes | None] | None = None,
    ) -> tuple[Reply | httpx.Response, bytes]:
        import asyncio
        import ssl

        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._max_concurrency)
        # A whole file streamed to disk, not a page or a range of metadata.
        download = spool_to is not None and request_header(headers, "range") is None
        tries = self._retries + 1
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._semaphore:
                    fields = self._fields(headers, credentials)
                    direct = self._direct_for(url)
                    response: Reply | httpx.Response
                    reply: Reply | None = None
                    if direct is not None:
                        response = reply = await direct.get(url, fields, self._timeout, download=download)
                    else:
                        import httpx

                        request = httpx.Request("GET", url, headers=fields, extensions={"timeout": self._timeouts})
                        response = await self._http().send(request, stream=True)
                    content = b""
                    try:
                        if spool_to is not None and response.status_code == 200:
                            content = await _spool(response, spool_to, self._timeout, until) or b""
                        elif reply is not None:
                            content = await reply.aread(_Pace(self._timeout))
                        else:
                            content = b"".join([c async for c in _paced(response, self._timeout)])
                    finally:
                        await response.aclose()
            except _TooSlow as slow:
                # Asking again would be as slow; this is the server's state.
                raise FetchError(url, f"the server is too slow ({slow})") from None
            except Exception as exc:
                if not _no_answer(exc):
                    raise
                # A certificate will not become trusted by asking again.
                if attempt == tries or any(isinstance(c, ssl.SSLError) for c in _causes(exc)):
                    raise FetchError(url, _tries(_describe(exc), attempt)) from None
                delay = None
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response, content
                reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                if attempt == tries:
                    raise FetchError(url, _tries(reason, attempt))
                delay = retry_after(response.headers.get("retry-after"), time.time())
            if delay is None:
                backoff = min(self._backoff * 2 ** (attempt - 1), MAX_BACKOFF)
                delay = backoff * random.uniform(0.5, 1.0)
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._direct is not None:
            await self._direct.aclose()
        if self._client is not None:
            await self._client.aclose()
