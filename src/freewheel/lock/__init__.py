"""Writing a resolution down: ``requirements.txt``, PEP 751 ``pylock.toml``
(and reading it back), the dependency tree.

May import :mod:`freewheel.resolver` and below.
"""
