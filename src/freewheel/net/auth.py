"""Which credentials go with which URL.

Credentials belong to a *scope*: a scheme, host and port plus a path
prefix. An index at ``https://h/org/simple/`` owns ``https://h/org/``, so its
project pages and the files it links to under that prefix get its
credentials, while ``https://h/other/`` on the same host gets none unless
configured itself. A request is matched against the longest prefix that
contains it, so nothing is ever sent to a host (or a prefix) the user did
not give it to, even across a redirect.

Sources, first match wins, as in uv: the URL's own user info, the
``FREEWHEEL_INDEX_<NAME>_USERNAME`` / ``_PASSWORD`` variables of a named
index, ``.netrc`` (``NETRC`` or ``~/.netrc``; per host, with its ``default``
entry for any other host, as curl and pip read it), and, when enabled, the
``keyring`` command, asked only after a 401.
"""

from __future__ import annotations

import netrc
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

import msgspec

from freewheel.config.indexes import Index
from freewheel.errors import UsageError
from freewheel.net.response import DEFAULT_PORTS

if TYPE_CHECKING:
    import asyncio

Origin = tuple[str, str, int | None]


class Credentials(msgspec.Struct, frozen=True):
    """A user name and, when known, a password; the password never prints."""

    username: str
    password: str | None = None

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"Credentials({fields})"

    def __rich_repr__(self) -> Iterator[tuple[str, str | None]]:
        # rich prints a Struct through this, not __repr__: Struct's own would show the password.
        yield "username", self.username
        yield "password", None if self.password is None else "****"


class Scope(msgspec.Struct, frozen=True):
    """The URLs credentials apply to: one origin and a path prefix ending in ``/``."""

    origin: Origin
    prefix: str

    def contains(self, url: str) -> bool:
        """Whether *url* (without user info) lies inside this scope."""
        parts = urlsplit(url)
        return origin_of(url) == self.origin and (parts.path or "/").startswith(self.prefix)

    @property
    def url(self) -> str:
        """The scope as a URL, for messages."""
        scheme, host, port = self.origin
        netloc = host if port is None else f"{host}:{port}"
        return urlunsplit((scheme, netloc, self.prefix, "", ""))


def origin_of(url: str) -> Origin:
    """``(scheme, host, port)`` with the scheme's default port as ``None``."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    port = parts.port
    return (parts.scheme, (parts.hostname or "").lower(), None if port == default else port)


def scope_of(url: str) -> Scope:
    """The scope credentials given with *url* cover.

    Indexes conventionally end in a ``simple`` (devpi: ``+simple``) segment
    and serve their files from a sibling path (``…/packages/``,
    ``…/files/``, ``…/+f/``), so the prefix stops before that segment;
    any other URL covers its own directory.
    """
    segments = (urlsplit(url).path or "/").split("/")
    for position in range(len(segments) - 1, 0, -1):
        if segments[position] in ("simple", "+simple"):
            return Scope(origin_of(url), "/".join(segments[:position]) + "/")
    return Scope(origin_of(url), "/".join(segments[:-1]) + "/")


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """*url* without its user info, and the credentials that were in it."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    password = None if parts.password is None else unquote(parts.password)
    return bare, Credentials(unquote(parts.username or ""), password)


def index_env_prefix(name: str) -> str:
    """``FREEWHEEL_INDEX_<NAME>_``: the name upper-cased, other characters ``_``."""
    return "FREEWHEEL_INDEX_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_"


def _from_environment(name: str, environ: Mapping[str, str]) -> Credentials | None:
    prefix = index_env_prefix(name)
    username = environ.get(prefix + "USERNAME")
    password = environ.get(prefix + "PASSWORD")
    if username is None and password is None:
        return None
    return Credentials(username or "", password)


def _merge(first: Credentials | None, second: Credentials | None) -> Credentials | None:
    """*first*, with what it lacks taken from *second*."""
    if first is None or second is None:
        return first or second
    if first.password is not None or second.username not in ("", first.username):
        return first
    return Credentials(first.username, second.password)


def read_netrc(environ: Mapping[str, str]) -> dict[str, Credentials]:
    """Host -> credentials from ``NETRC`` or ``~/.netrc`` (``"default"`` too).

    A missing file means no entries; a malformed one is a :class:`UsageError`,
    since silently ignoring it would turn into a puzzling 401.
    """
    home = environ.get("HOME") or os.path.expanduser("~")
    path = Path(environ.get("NETRC") or Path(home) / ".netrc")
    if not path.is_file():
        return {}
    try:
        parsed = netrc.netrc(os.fspath(path))
    except (netrc.NetrcParseError, OSError) as exc:
        detail = exc.msg if isinstance(exc, netrc.NetrcParseError) else exc.strerror
        raise UsageError(
            f"Could not read the netrc file {path}: {detail}.",
            hint="fix the file, or point NETRC to another one",
        ) from None
    return {
        host: Credentials(login, password) for host, (login, _, password) in parsed.hosts.items()
    }


class CredentialStore:
    """Credentials by scope, consulted by the fetcher for every request.

    Build one with :meth:`from_indexes`; the fetcher adds what it learns
    from URLs it is asked for and from the keyring.
    """

    def __init__(self, netrc_entries: Mapping[str, Credentials] | None = None) -> None:
        self._scoped: dict[Scope, Credentials] = {}
        # The URL each scope was configured with: the keyring's service name.
        self._services: dict[Scope, str] = {}
        self._netrc = dict(netrc_entries or {})
        # One task per scope: concurrent 401s in a scope wait for one answer.
        self._keyring_asked: dict[Scope, asyncio.Task[Credentials | None]] = {}

    @classmethod
    def from_indexes(cls, indexes: Iterable[Index], environ: Mapping[str, str]) -> CredentialStore:
        """A store holding the credentials of *indexes* and the netrc file.

        Each index contributes its URL's user info, completed (or replaced
        when the URL has none) by its ``FREEWHEEL_INDEX_<NAME>_*`` variables.
        """
        store = cls(read_netrc(environ))
        for index in indexes:
            bare, in_url = split_credentials(index.url)
            from_env = _from_environment(index.name, environ) if index.name else None
            credentials = _merge(in_url, from_env)
            if credentials is not None and bare.startswith(("http:", "https:")):
                store.add(bare, credentials)
        return store

    def add(self, url: str, credentials: Credentials) -> None:
        """Use *credentials* for every URL in the scope of *url* (see
        :func:`scope_of`), replacing earlier ones.
        """
        scope = scope_of(url)
        self._scoped[scope] = credentials
        self._services[scope] = url

    def remember(self, url: str) -> str:
        """Keep the credentials in *url* for its scope; return *url* without them.

        User info without a password only names the user: it does not
        replace a password known for the scope.
        """
        bare, credentials = split_credentials(url)
        if credentials is not None:
            known = self._scoped.get(scope_of(bare))
            self.add(bare, _merge(credentials, known) or credentials)
        return bare

    def _scope_for(self, url: str) -> Scope | None:
        """The most specific configured scope containing *url*."""
        matching = [scope for scope in self._scoped if scope.contains(url)]
        return max(matching, key=lambda scope: len(scope.prefix), default=None)

    def lookup(self, url: str) -> Credentials | None:
        """The credentials to send with a request for *url* (without user info).

        A scope's user name without a password is completed from the netrc
        entry for the host when that entry is for the same user.
        """
        scope = self._scope_for(url)
        scoped = self._scoped[scope] if scope is not None else None
        if scoped is not None and scoped.password is not None:
            return scoped
        host = origin_of(url)[1]
        from_netrc = self._netrc.get(host) or self._netrc.get("default")
        if from_netrc is not None and scoped is not None and from_netrc.username != scoped.username:
            return scoped
        return from_netrc or scoped

    async def ask_keyring(self, url: str) -> Credentials | None:
        """Ask the ``keyring`` command for *url*'s scope, once per scope.

        The scope is the configured one containing *url*, else the one
        *url* implies. The service asked for is the URL the scope was
        configured with (an index URL), else *url*, then its host and port,
        as pip and uv do. With a known user name this runs ``keyring get
        <service> <username>``; without one, ``keyring --mode creds get
        <service>`` (keyring >= 25.2), which answers with both, as uv does
        for indexes that always authenticate. Whatever is found is kept
        for the scope.
        """
        import asyncio  # only once asked: a run the cache serves whole needs none

        scope = self._scope_for(url) or scope_of(url)
        if scope not in self._keyring_asked:
            service = self._services.get(scope, url)
            self._keyring_asked[scope] = asyncio.create_task(self._ask_keyring(scope, service))
        return await self._keyring_asked[scope]

    async def _ask_keyring(self, scope: Scope, service: str) -> Credentials | None:
        known = self._scoped.get(scope)
        found = await _query_keyring(service, known.username if known else None)
        if found is not None:
            self.add(service, found)
        return found

    def __repr__(self) -> str:
        scopes = ", ".join(
            f"{scope.url} ({credentials.username or 'no user'})"
            for scope, credentials in sorted(self._scoped.items(), key=lambda item: item[0].url)
        )
        return f"CredentialStore([{scopes}], netrc hosts={sorted(self._netrc)})"


async def _run_keyring(*args: str) -> str | None:
    """The output of ``keyring <args>``, or ``None`` if it found nothing."""
    import asyncio

    try:
        process = await asyncio.create_subprocess_exec(
            "keyring",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return None
    output, _ = await process.communicate()
    if process.returncode != 0:
        return None
    return output.decode("utf-8", "replace")


async def _query_keyring(url: str, username: str | None) -> Credentials | None:
    for service in (url, urlsplit(url).netloc):
        if username:
            output = await _run_keyring("get", service, username)
            if output is not None:
                return Credentials(username, output.removesuffix("\n").removesuffix("\r"))
        else:
            output = await _run_keyring("--mode", "creds", "get", service)
            lines = (output or "").splitlines()
            if len(lines) >= 2:
                return Credentials(lines[0], lines[1])
    return None
