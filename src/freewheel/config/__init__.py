"""Settings: every layer (command line, environment, project, user, pip's
configuration) merged into one value per setting, each knowing where it
came from; pip's configuration files; the indexes as configured.

May import :mod:`freewheel.util` and :mod:`freewheel.errors` only.
"""
