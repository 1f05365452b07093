"""Network access: one fetcher shared by every layer that reads URLs, and
the credentials it sends.

May import :mod:`freewheel.python` and below.
"""

from freewheel.net.fetcher import Fetcher, FetchError, Response

__all__ = ["FetchError", "Fetcher", "Response"]
