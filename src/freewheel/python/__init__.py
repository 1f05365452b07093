"""What a resolution or an install is for: interpreters and their discovery,
virtual environments (finding and creating them), platforms, wheel tags and
the target environment's markers.

May import :mod:`freewheel.config` and below.
"""
