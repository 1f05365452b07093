"""Readers for what users hand freewheel: requirements files, ``pyproject.toml``,
``setup.cfg`` and ``freewheel.toml``.

Each reader returns frozen records (:class:`msgspec.Struct`) and reports
malformed input as an :class:`~freewheel.errors.InputError` that names the
file and the place in it.

May import :mod:`freewheel.install` and below.
"""
