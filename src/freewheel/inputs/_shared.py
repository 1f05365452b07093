"""Helpers shared by the input readers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

# A scheme is at least two characters so that a Windows drive (``C:\``) is a path.
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def is_url(value: str) -> bool:
    """Whether *value* is a URL (``https://``, ``file:``, ``git+ssh://`` ...)."""
    return _URL_RE.match(value) is not None


def location_url(value: str, base_dir: Path) -> str:
    """Return *value* as a URL: URLs unchanged, paths as absolute ``file://`` URLs.

    A relative path is taken relative to *base_dir*, the directory of the file
    that names it, as pip and uv do; ``~`` is expanded.
    """
    if is_url(value):
        return value
    path = Path(os.path.normpath(Path(base_dir).absolute() / Path(value).expanduser()))
    return path.as_uri()


def with_absolute_url(req: Requirement, base_dir: Path) -> Requirement:
    """Return *req* with a relative path in its direct reference made an absolute URL."""
    if req.url is None:
        return req
    absolute = Requirement(str(req))
    absolute.url = location_url(req.url, base_dir)
    return absolute


def invalid_requirement_reason(exc: InvalidRequirement) -> str:
    """The first line of *exc*: what is wrong, without packaging's caret drawing."""
    return str(exc).splitlines()[0]


def defined_names(what: str, names: Iterable[str]) -> str:
    """Finish a "not defined" message: ``it defines: `a`, `b`.`` or ``it defines no extras.``"""
    listed = ", ".join(f"`{name}`" for name in names)
    return f"it defines: {listed}." if listed else f"it defines no {what}."
