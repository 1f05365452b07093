"""Installing wheels into environments and uninstalling distributions.

The layers, each usable alone: :mod:`.wheelfile` checks a wheel,
:mod:`.unpack` extracts it once into a shared cache, :mod:`.scheme` says
where each part goes, :mod:`.link` places files, :mod:`.scripts` writes
launchers, :mod:`.records` reads and writes ``RECORD``, :mod:`.installer`
puts it together transactionally and :mod:`.uninstall` removes by ``RECORD``;
:mod:`.site_packages` reads what an environment holds, :mod:`.plan` what an
install would change.

May import :mod:`freewheel.dists` and below.
"""

from __future__ import annotations

from .errors import InstallError
from .installer import InstallResult, WheelToInstall, install_wheels
from .link import LINK_MODES, Linker, LinkMode
from .scheme import Scheme
from .uninstall import find_distributions, uninstall
from .unpack import Unpacked, unpack

__all__ = [
    "LINK_MODES",
    "InstallError",
    "InstallResult",
    "LinkMode",
    "Linker",
    "Scheme",
    "Unpacked",
    "WheelToInstall",
    "find_distributions",
    "install_wheels",
    "uninstall",
    "unpack",
]
