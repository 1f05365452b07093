"""Dependency resolution: the PubGrub core (:mod:`.pubgrub`, which imports
nothing else from freewheel), the provider that feeds it, which files are
usable and why not (:mod:`.candidates`), hints for failures, and the
resolution's result (:mod:`.result`).

May import :mod:`freewheel.inputs` and below.
"""
