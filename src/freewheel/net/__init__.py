"""Network access: one fetcher shared by every layer that reads URLs, and
the credentials it sends.

:mod:`freewheel.net.response` has what the layers above share with the
network (responses, errors, the fetching interface) and loads no HTTP
library; :class:`Fetcher`, which does, is imported on first use.

May import :mod:`freewheel.python` and below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freewheel.net.response import FetchError, Response

if TYPE_CHECKING:
    from freewheel.net.fetcher import Fetcher

__all__ = ["FetchError", "Fetcher", "Response"]


def __getattr__(name: str) -> object:
    if name == "Fetcher":
        from freewheel.net.fetcher import Fetcher

        return Fetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
