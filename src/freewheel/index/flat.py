"""Read ``--find-links`` locations: a directory of files or a page of links.

A flat location is not organised by project: one listing offers files for
any number of projects, so both readers return the files grouped by
canonical project name. Pure functions; the client lists directories and
fetches pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from packaging.utils import NormalizedName

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.index.simple import dist_file, html_files

FlatListing = Mapping[NormalizedName, tuple[DistFile, ...]]


def _group(files: Iterable[DistFile | None]) -> FlatListing:
    grouped: dict[NormalizedName, list[DistFile]] = {}
    for file in files:
        if file is not None:
            grouped.setdefault(file.name, []).append(file)
    return {name: tuple(group) for name, group in grouped.items()}


def parse_flat_page(content: bytes, page_url: str, index: Index) -> FlatListing:
    """Read an HTML page of links: every wheel and sdist it links to.

    Links carry the same attributes as on a PEP 503 page (hash fragments,
    ``data-requires-python``, ``data-yanked``...), and they are honoured.
    """
    return _group(html_files(content, page_url, index))


def directory_listing(filenames: Iterable[str], directory_url: str, index: Index) -> FlatListing:
    """Read the names of the files in a local directory at *directory_url*."""
    base = directory_url if directory_url.endswith("/") else directory_url + "/"
    return _group(dist_file(base + quote(name), index) for name in sorted(filenames))
