"""Distribution files and what is known about them: downloads into the
cache (hashed once), core metadata (PEP 658 files, range reads of a wheel,
whole files), and builds of source trees in :mod:`freewheel.dists.builds`.

May import :mod:`freewheel.index` and below.
"""
