"""Indexes as configured: where distributions are offered, and how to ask."""

from __future__ import annotations

from typing import Literal

import msgspec

from freewheel.util.urls import strip_credentials

IndexFormat = Literal["simple", "flat", "direct"]


class Index(msgspec.Struct, frozen=True):
    """A place that offers distributions.

    ``format="simple"`` is a PEP 503/691 index (one page per project);
    ``format="flat"`` is a ``--find-links`` location (a directory or an HTML
    page listing files directly); ``format="direct"`` is a direct reference
    (``name @ URL``), standing for the one file it points at. An ``explicit`` index is only consulted for
    packages pinned to it by name. ``origin`` says where the user configured
    it, for messages.

    The remaining fields are uv's per-index settings: ``authenticate`` is
    recorded as configured; ``ignore_error_codes`` are HTTP statuses that
    mean "not here" on this index, as a 404 does; ``cache_control_api`` and
    ``cache_control_files``, when set, replace the ``Cache-Control`` the
    server sends for its pages and its files.
    """

    url: str
    name: str | None = None
    format: IndexFormat = "simple"
    explicit: bool = False
    default: bool = False
    origin: str = "command line"
    authenticate: Literal["auto", "always", "never"] = "auto"
    ignore_error_codes: frozenset[int] = frozenset()
    cache_control_api: str | None = None
    cache_control_files: str | None = None

    @property
    def display(self) -> str:
        """The URL safe to print: without credentials."""
        return strip_credentials(self.url)

    @property
    def label(self) -> str:
        """How messages name this index: ``name (url)`` or just the URL."""
        return f"{self.name} ({self.display})" if self.name else self.display
