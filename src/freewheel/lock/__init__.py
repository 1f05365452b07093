"""Writing a resolution down: ``requirements.txt`` today, ``pylock.toml`` next.

May import :mod:`freewheel.resolver` and below.
"""
