"""The project workflow (``lock``, ``sync``, ``add``, ``remove``, ``run``):
workspaces, sources, and keeping a lock and an environment in step.

May import :mod:`freewheel.lock` and below.
"""
