"""The error every installer failure a user can cause is reported as."""

from __future__ import annotations

from freewheel.errors import FreewheelError


class InstallError(FreewheelError):
    """A wheel could not be installed or a distribution uninstalled.

    Raised for hostile or damaged wheels before the environment is touched,
    and for file-system failures after it was restored to how it was.
    """
