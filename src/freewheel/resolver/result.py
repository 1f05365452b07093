"""What a resolution produces: for one environment, each package pinned with
its files and why it is there (:class:`PinnedPackage`); for every
environment at once, the graph a universal lock records (:class:`LockGraph`)."""

from __future__ import annotations

from typing import Literal

import msgspec
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.resolver.markers import TRUE, MarkerTree


class PinnedPackage(msgspec.Struct, frozen=True):
    """One resolved package: its line of output and what installs it.

    ``files`` are every file of the version on the index it was resolved
    from (their hashes go into the output); ``dist`` is the best of them
    for the target, the one an install uses. A universal resolution may pin
    one name at several versions, each under its own ``marker``.
    """

    name: NormalizedName
    version: Version
    extras: frozenset[NormalizedName]
    files: tuple[DistFile, ...]
    index: Index | None
    via: tuple[str, ...]
    dist: DistFile | None = None
    #: Where the pin applies, in a universal resolution (``TRUE`` elsewhere).
    marker: MarkerTree = TRUE
    #: An editable direct reference (``-e PATH``), written back as one.
    editable: bool = False


class LockedDependency(msgspec.Struct, frozen=True):
    """An edge of the locked graph: *name* at *version*, needed where *marker* holds.

    The version tells which entry of a package locked at several versions
    (one per fork) the edge leads to; *source*, which of one version taken
    from several places (direct references under different conditions).
    """

    name: NormalizedName
    version: Version
    marker: MarkerTree
    source: LockedSource | None = None


class LockedPackage(msgspec.Struct, frozen=True):
    """One package of a universal lock: installed wherever *marker* holds.

    *marker* speaks of the environment (``sys_platform``,
    ``python_full_version``...) and of the selection (PEP 751's ``'cpu' in
    extras``, ``'dev' in dependency_groups``); it is ``TRUE`` for a package
    every selection needs everywhere. *files* are every wheel and sdist of
    the version on *index* that some supported environment may install,
    with their hashes. *requires_python* is the version's own. A package
    that comes from somewhere other than an index (a path, a URL, a git
    checkout, a workspace member) has *source* set and no *index*.
    """

    name: NormalizedName
    version: Version
    marker: MarkerTree
    index: Index | None
    files: tuple[DistFile, ...]
    dependencies: tuple[LockedDependency, ...]
    requires_python: SpecifierSet | None = None
    source: LockedSource | None = None


class LockedSource(msgspec.Struct, frozen=True):
    """Where a package that is not on an index comes from (PEP 751's
    ``directory``, ``archive`` or ``vcs``), as the lock records it.

    *kind* is ``"directory"`` (with *editable*), ``"archive"`` (a URL, or a
    local file's path relative to the lock, with its *sha256*), or ``"vcs"`` (*url* with the resolved
    *commit* and the *requested_revision*). *subdirectory* points into an
    archive or a checkout.
    """

    kind: Literal["directory", "archive", "vcs"]
    url: str
    editable: bool = False
    sha256: str | None = None
    commit: str | None = None
    requested_revision: str | None = None
    subdirectory: str | None = None


class LockGraph(msgspec.Struct, frozen=True):
    """The result of a universal resolution: every package for every
    supported environment and selection, each with where it applies.

    *requires_python* is the project's (the environments a lock covers);
    *environments* restrict them further (``[tool.uv] environments``),
    ``TRUE`` when unrestricted; *extras* and *groups* are the project's
    optional dependency sets and dependency groups, whose selection the
    packages' markers test; *default_groups* are the groups installed when
    none is asked for. *forks* are the regions of the environment space the
    resolution was split into (empty when it was not), kept so that a
    re-lock can split the same way. *inputs* is a digest of what the lock
    was made from (requirements, sources, indexes, settings): a lock whose
    digest matches is up to date without asking any index.
    """

    requires_python: SpecifierSet
    environments: MarkerTree
    extras: tuple[NormalizedName, ...]
    groups: tuple[NormalizedName, ...]
    packages: tuple[LockedPackage, ...]
    default_groups: tuple[NormalizedName, ...] = ()
    forks: tuple[MarkerTree, ...] = ()
    inputs: str | None = None
