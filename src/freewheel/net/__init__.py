"""Network access: one fetcher shared by every layer that reads URLs."""

from freewheel.net.fetcher import Fetcher, FetchError, Response

__all__ = ["FetchError", "Fetcher", "Response"]
