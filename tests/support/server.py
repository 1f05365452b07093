"""A local package index for tests: a threaded HTTP server and file:// trees.

:class:`IndexServer` serves a directory of built distributions (see
:mod:`tests.support.builders`) as

* a simple index at ``/simple/`` (PEP 503 HTML and PEP 691 JSON, chosen from
  the ``Accept`` header), with hashes, ``requires-python`` read from each
  file's own metadata, PEP 658 metadata files, yanked files and upload times;
* the files at ``/files/<filename>``, with optional range requests, caching
  headers and conditional requests;
* a flat page of links at ``/flat/``.

The directory is rescanned on every request, so tests may add files while
the server runs. Every request is recorded in :attr:`IndexServer.requests`,
and the most requests answered at once in :attr:`IndexServer.max_in_flight`.
:func:`write_file_index` writes the same index as a static ``file://`` tree.
"""

from __future__ import annotations

import base64
import dataclasses
import email.parser
import email.utils
import hashlib
import html
import json
import re
import shutil
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from packaging.utils import (
    canonicalize_name,
)

from freewheel.cache.http import project_of_filename

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")


@dataclasses.dataclass(frozen=True)
class ServedDist:
    """One distribution file as the index describes it."""

    path: Path
    name: str
    sha256: str
    metadata: bytes | None
    requires_python: str | None

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def metadata_sha256(self) -> str | None:
        return hashlib.sha256(self.metadata).hexdigest() if self.metadata is not None else None


def _read_metadata(path: Path) -> bytes | None:
    """The METADATA of a wheel or the PKG-INFO of an sdist; ``None`` also
    for a file that is not a readable archive (a hostile or damaged one)."""
    if path.name.endswith(".whl"):
        if not zipfile.is_zipfile(path):
            return None
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if re.fullmatch(r"[^/]+\.dist-info/METADATA", member):
                    return archive.read(member)
    elif path.name.endswith(".tar.gz"):
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if re.fullmatch(r"[^/]+/PKG-INFO", member.name):
                    extracted = archive.extractfile(member)
                    return extracted.read() if extracted else None
    return None


def scan_dists(directory: Path) -> dict[str, list[ServedDist]]:
    """Every distribution in *directory*, by canonical project name."""
    projects: dict[str, list[ServedDist]] = {}
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        name = project_of_filename(path.name)
        if name is None or not path.is_file():
            continue
        metadata = _read_metadata(path)
        requires_python = None
        if metadata is not None:
            headers = email.parser.BytesParser().parsebytes(metadata, headersonly=True)
            requires_python = headers.get("Requires-Python")
        dist = ServedDist(
            path=path,
            name=name,
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            metadata=metadata,
            requires_python=requires_python,
        )
        projects.setdefault(name, []).append(dist)
    return projects


def _metadata_offered(dist: ServedDist, metadata: bool) -> bool:
    return metadata and dist.metadata is not None and dist.filename.endswith(".whl")


def render_links(
    title: str,
    dists: Iterable[ServedDist],
    file_url: Callable[[str], str],
    *,
    metadata: bool = False,
    yanked: Mapping[str, str] | None = None,
) -> bytes:
    """A PEP 503 page of links to *dists* (also a valid flat page)."""
    yanked = yanked or {}
    lines = [
        "<!DOCTYPE html>",
        "<html><head>",
        '<meta name="pypi:repository-version" content="1.1">',
        f"<title>Links for {html.escape(title)}</title>",
        f"</head><body><h1>Links for {html.escape(title)}</h1>",
    ]
    for dist in dists:
        attrs = [f'href="{html.escape(file_url(dist.filename))}#sha256={dist.sha256}"']
        if dist.requires_python:
            attrs.append(f'data-requires-python="{html.escape(dist.requires_python)}"')
        if _metadata_offered(dist, metadata):
            value = f"sha256={dist.metadata_sha256}"
            attrs.append(f'data-dist-info-metadata="{value}" data-core-metadata="{value}"')
        if dist.filename in yanked:
            attrs.append(f'data-yanked="{html.escape(yanked[dist.filename])}"')
        lines.append(f"<a {' '.join(attrs)}>{html.escape(dist.filename)}</a><br/>")
    lines.append("</body></html>")
    return "\n".join(lines).encode()


def render_json(
    name: str,
    dists: Iterable[ServedDist],
    file_url: Callable[[str], str],
    *,
    metadata: bool = False,
    yanked: Mapping[str, str] | None = None,
    upload_times: Mapping[str, datetime] | None = None,
) -> bytes:
    """A PEP 691 project page for *dists*."""
    yanked = yanked or {}
    upload_times = upload_times or {}
    files = []
    for dist in dists:
        entry: dict[str, object] = {
            "filename": dist.filename,
            "url": file_url(dist.filename),
            "hashes": {"sha256": dist.sha256},
            "requires-python": dist.requires_python,
            "yanked": yanked.get(dist.filename, False),
            "size": dist.path.stat().st_size,
        }
        if _metadata_offered(dist, metadata):
            entry["core-metadata"] = entry["dist-info-metadata"] = {
                "sha256": dist.metadata_sha256
            }
        if dist.filename in upload_times:
            entry["upload-time"] = upload_times[dist.filename].isoformat()
        files.append(entry)
    page = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
    return json.dumps(page).encode()


def _root_links(names: Iterable[str]) -> bytes:
    links = "\n".join(f'<a href="{name}/">{name}</a><br/>' for name in names)
    return f"<!DOCTYPE html>\n<html><body>\n{links}\n</body></html>".encode()


def write_file_index(dists_dir: Path, root: Path, *, metadata: bool = False) -> str:
    """Write a static simple index of *dists_dir* under *root*.

    The files are copied to ``root/files/`` (with ``.metadata`` files when
    *metadata* is true) and each project page is ``root/simple/<name>/
    index.html``. Returns the ``file://`` URL of ``root/simple/``.
    """
    projects = scan_dists(dists_dir)
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    simple = root / "simple"
    simple.mkdir(exist_ok=True)
    (simple / "index.html").write_bytes(_root_links(sorted(projects)))
    for name, dists in projects.items():
        for dist in dists:
            shutil.copy(dist.path, files / dist.filename)
            if _metadata_offered(dist, metadata):
                (files / f"{dist.filename}.metadata").write_bytes(dist.metadata or b"")
        page = simple / name / "index.html"
        page.parent.mkdir(exist_ok=True)
        page.write_bytes(
            render_links(name, dists, lambda f: "../../files/" + quote(f), metadata=metadata)
        )
    return simple.as_uri() + "/"


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """How an :class:`IndexServer` behaves; change with :meth:`IndexServer.configure`.

    ``formats`` are the page formats served (``"json"``, ``"html"``);
    ``metadata`` turns PEP 658 metadata files on; ``yanked`` maps filenames
    to reasons; ``status`` maps a project to the HTTP status its page
    answers with; ``ranges`` honours ``Range`` headers on files; ``etag``,
    ``last_modified`` and ``cache_control`` add those headers to files (an
    ``If-None-Match`` matching the ETag gets a 304); ``page_headers`` are
    added to every project page served (``Cache-Control``, say), and
    ``page_etag`` gives those pages an ``ETag`` (answering a matching
    ``If-None-Match`` with a 304); ``auth``
    requires Basic credentials for everything; ``redirects`` maps a path to
    the URL it redirects to (302); ``latency`` delays every response
    (seconds). ``advertised_sha256`` maps filenames to the sha256 the pages
    give instead of the true one, and ``served_bytes`` to the content served
    instead of the file's (the pages still give the file's hash): an index
    or mirror that lies, or a file replaced after it was published;
    ``file_status`` maps filenames to the HTTP status their download gets;
    ``pages`` maps a project to the ``(content type, body)`` its page is
    answered with instead of the one built from the files (a broken or
    hostile index).
    """

    formats: tuple[str, ...] = ("json", "html")
    metadata: bool = False
    yanked: Mapping[str, str] = dataclasses.field(default_factory=dict)
    upload_times: Mapping[str, datetime] = dataclasses.field(default_factory=dict)
    status: Mapping[str, int] = dataclasses.field(default_factory=dict)
    ranges: bool = True
    etag: bool = False
    last_modified: bool = False
    cache_control: str | None = None
    page_headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    page_etag: bool = False
    auth: tuple[str, str] | None = None
    redirects: Mapping[str, str] = dataclasses.field(default_factory=dict)
    latency: float = 0.0
    advertised_sha256: Mapping[str, str] = dataclasses.field(default_factory=dict)
    served_bytes: Mapping[str, bytes] = dataclasses.field(default_factory=dict)
    file_status: Mapping[str, int] = dataclasses.field(default_factory=dict)
    pages: Mapping[str, tuple[str, bytes]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered. ``headers`` keys are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]
    status: int
    body_bytes: int


def _accepted(accept: str | None) -> dict[str, float]:
    """Media type -> quality, from an ``Accept`` header."""
    qualities: dict[str, float] = {}
    for item in (accept or "*/*").split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                quality = float(value)
        if media_type:
            qualities[media_type.lower()] = quality
    return qualities


def choose_format(accept: str | None, formats: Iterable[str]) -> str | None:
    """The served format the client prefers, or ``None`` if it takes none.

    Without an ``Accept`` header a client gets HTML, as legacy clients expect.
    """
    if accept is None:
        return "html" if "html" in formats else None
    qualities = _accepted(accept)
    wildcard = qualities.get("*/*", 0.0)
    offers = {
        "json": qualities.get(JSON_TYPE, wildcard),
        "html": max(qualities.get(media_type, wildcard) for media_type in HTML_TYPES),
    }
    best = max(formats, key=lambda fmt: offers[fmt], default=None)
    return best if best is not None and offers[best] > 0 else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet; requests are recorded instead."""

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def _handle(self, *, send_body: bool) -> None:
        index = self.server.index
        with index.in_flight_lock:
            index.in_flight += 1
            index.max_in_flight = max(index.max_in_flight, index.in_flight)
        try:
            self._answer(send_body=send_body)
        finally:
            with index.in_flight_lock:
                index.in_flight -= 1

    def _answer(self, *, send_body: bool) -> None:
        index = self.server.index
        options = index.options
        if options.latency:
            time.sleep(options.latency)
        if options.auth is not None and not self._authorized(options.auth):
            self._send(401, b"unauthorized", send_body, {"WWW-Authenticate": 'Basic realm="test"'})
            return
        path = unquote(self.path.split("?", 1)[0])
        if path in options.redirects:
            self._send(302, b"", send_body, {"Location": options.redirects[path]})
        elif path == "/simple/":
            self._send(200, _root_links(sorted(scan_dists(index.dists_dir))), send_body)
        elif match := re.fullmatch(r"/simple/([^/]+)(/?)", path):
            self._project_page(match.group(1), bool(match.group(2)), options, send_body)
        elif path.startswith("/files/"):
            self._file(path.removeprefix("/files/"), options, send_body)
        elif path == "/flat/":
            dists = [d for ds in scan_dists(index.dists_dir).values() for d in ds]
            page = render_links("flat", dists, _files_link, yanked=options.yanked)
            self._send(200, page, send_body)
        else:
            self._send(404, b"not found", send_body)

    def _authorized(self, auth: tuple[str, str]) -> bool:
        expected = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        return self.headers.get("Authorization") == expected

    def _project_page(
        self, name: str, slash: bool, options: ServerOptions, send_body: bool
    ) -> None:
        canonical = canonicalize_name(name)
        if canonical != name or not slash:
            self._send(301, b"", send_body, {"Location": f"/simple/{canonical}/"})
            return
        if canonical in options.status:
            self._send(options.status[canonical], b"status override", send_body)
            return
        if canonical in options.pages:
            content_type, body = options.pages[canonical]
            self._send(200, body, send_body, {"Content-Type": content_type, **options.page_headers})
            return
        dists = scan_dists(self.server.index.dists_dir).get(canonical)
        if dists is None:
            self._send(404, b"no such project", send_body)
            return
        dists = [
            dataclasses.replace(d, sha256=options.advertised_sha256.get(d.filename, d.sha256)) for d in dists
        ]
        fmt = choose_format(self.headers.get("Accept"), options.formats)
        if fmt is None:
            self._send(406, b"not acceptable", send_body)
        elif fmt == "json":
            page = render_json(
                canonical,
                dists,
                _files_link,
                metadata=options.metadata,
                yanked=options.yanked,
                upload_times=options.upload_times,
            )
            self._page(page, {"Content-Type": JSON_TYPE}, options, send_body)
        else:
            page = render_links(
                canonical, dists, _files_link, metadata=options.metadata, yanked=options.yanked
            )
            self._page(page, {}, options, send_body)

    def _page(self, page: bytes, headers: dict[str, str], options: ServerOptions, send_body: bool) -> None:
        headers = {**headers, **options.page_headers}
        if options.page_etag:
            headers["ETag"] = f'"{hashlib.sha256(page).hexdigest()[:16]}"'
            if self.headers.get("If-None-Match") == headers["ETag"]:
                self._send(304, b"", send_body, headers)
                return
        self._send(200, page, send_body, headers)

    def _file(self, filename: str, options: ServerOptions, send_body: bool) -> None:
        dists_dir = self.server.index.dists_dir
        if filename.endswith(".metadata"):
            dist = _find_dist(dists_dir, filename.removesuffix(".metadata"))
            if dist is None or not _metadata_offered(dist, options.metadata):
                self._send(404, b"not found", send_body)
            else:
                self._send(200, dist.metadata or b"", send_body, {"Content-Type": "text/plain"})
            return
        path = dists_dir / filename
        if "/" in filename or not path.is_file():
            self._send(404, b"not found", send_body)
            return
        if filename in options.file_status:
            self._send(options.file_status[filename], b"status override", send_body)
            return
        data = options.served_bytes.get(filename) or path.read_bytes()
        headers = {"Content-Type": "application/octet-stream"}
        if options.ranges:
            headers["Accept-Ranges"] = "bytes"
        if options.cache_control is not None:
            headers["Cache-Control"] = options.cache_control
        if options.last_modified:
            headers["Last-Modified"] = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
        if options.etag:
            etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
            headers["ETag"] = etag
            if self.headers.get("If-None-Match") in (etag, "*"):
                self._send(304, b"", send_body, headers)
                return
        byte_range = _parse_range(self.headers.get("Range"), len(data)) if options.ranges else None
        if byte_range is None:
            self._send(200, data, send_body, headers)
        elif byte_range == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{len(data)}"
            self._send(416, b"", send_body, headers)
        else:
            start, end = byte_range
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            self._send(206, data[start : end + 1], send_body, headers)

    def _send(
        self,
        status: int,
        body: bytes,
        send_body: bool,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        if status == 304:
            body = b""
        # Recorded before anything is sent, so that a client that has its
        # response already finds the request in the log.
        self.server.index.requests.append(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                status=status,
                body_bytes=len(body) if send_body else 0,
            )
        )
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def _find_dist(dists_dir: Path, filename: str) -> ServedDist | None:
    dists = scan_dists(dists_dir).get(project_of_filename(filename) or "", [])
    return next((dist for dist in dists if dist.filename == filename), None)


def _files_link(filename: str) -> str:
    return "/files/" + quote(filename)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(start, end)`` inclusive, ``"unsatisfiable"``, or ``None`` to send all."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    index: IndexServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client drops its connection (a keep-alive
        connection closed when the client shuts down); print anything else,
        as the base class does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class IndexServer:
    """A running index serving *dists_dir* on 127.0.0.1 (see the module doc)."""

    def __init__(self, dists_dir: Path, **options: object) -> None:
        self.dists_dir = Path(dists_dir)
        self.options = ServerOptions(**options)  # type: ignore[arg-type]
        self.requests: list[RecordedRequest] = []
        # How many requests were being answered at once, at most.
        self.max_in_flight = 0
        self.in_flight = 0
        self.in_flight_lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.index = self
        # A short poll interval keeps stop() (once per test) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def url(self) -> str:
        """The simple index root, ending in ``/simple/``."""
        return self.root_url + "simple/"

    @property
    def flat_url(self) -> str:
        return self.root_url + "flat/"

    @property
    def files_url(self) -> str:
        return self.root_url + "files/"

    def configure(self, **changes: object) -> None:
        """Change options; requests already answered are unaffected."""
        self.options = dataclasses.replace(self.options, **changes)  # type: ignore[arg-type]

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [request.path for request in self.requests]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
