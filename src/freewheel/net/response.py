"""What every layer above the network shares with it, without the HTTP
client: responses, their headers, the error for no response, and the one
fetching interface.

Importing this module costs no HTTP library, nor asyncio or ssl, so a run
served from the cache alone never loads them (:mod:`freewheel.net.fetcher`
does, on first use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import msgspec

from freewheel.util.urls import strip_credentials

#: The port a URL of each scheme freewheel fetches over HTTP means when it names none.
DEFAULT_PORTS = {"http": 80, "https": 443}


def request_header(fields: Mapping[str, str] | None, name: str) -> str | None:
    """The value of the request header *name* (lower case) in *fields*,
    written in any case; ``None`` when absent."""
    return next((value for key, value in (fields or {}).items() if key.lower() == name), None)


class Headers(Mapping[str, str]):
    """Response header fields, looked up by name in any case.

    A field given more than once reads as its values joined by ``", "``
    (RFC 9110 section 5.3); iteration yields lower-case names.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        joined: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        self._fields = joined

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


class Response(msgspec.Struct, frozen=True):
    """A complete response: HTTP errors are responses too, not exceptions,
    except a server error or 429 that lasts through every try.

    ``url`` is the final URL after redirects, without credentials, so that
    links resolved against it never embed a password. ``headers`` look up
    names case-insensitively.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    #: Where a body asked to be spooled to disk was written (``content`` is
    #: then empty); ``None`` when the body is in ``content``.
    path: Path | None = None


class FetchError(Exception):
    """No usable response: connection refused, DNS failure, timeout, TLS,
    or a server error that lasted through every retry.

    ``url`` is without credentials; ``reason`` is a short phrase for
    messages that says how many tries were made when there was more than one.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = strip_credentials(url)
        self.reason = reason
        super().__init__(f"{self.url}: {reason}")


class Getter(Protocol):
    """The one interface everything above the network uses: the fetcher
    and its caching wrapper both provide it."""

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        spool_to: Path | None = None,
        until: Callable[[bytes], bytes | None] | None = None,
    ) -> Response: ...


class Closing:
    """``async with`` support for anything with an ``aclose()``."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
