"""Helpers every layer may use: file-system writes, URL redaction, requirement checks.

The bottom layer: imports nothing from the rest of freewheel but
:mod:`freewheel.errors`.
"""
