"""Making the project environment exactly what ``pylock.toml`` selects.

The lock is read and validated with :mod:`packaging.pylock`; its selection
for the environment's interpreter (markers and wheel tags), the extras and
the dependency groups asked for is compared with what the environment
holds; what is missing or at another version is downloaded into the cache
(nothing is fetched when nothing changes), and the changes are applied in
one transaction. Without ``inexact``, everything else is removed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

import msgspec
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockUnsupportedVersionError,
    PylockValidationError,
)
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.errors import InputError, UsageError
from freewheel.index.models import DistFile
from freewheel.install.plan import Plan, plan
from freewheel.util.fs import display_path

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from freewheel.cache import Cache
    from freewheel.config.settings import Settings
    from freewheel.dists.builds.sdist import SdistBuilds
    from freewheel.install import WheelToInstall
    from freewheel.install.site_packages import InstalledDistribution
    from freewheel.project.config import ProjectConfig
    from freewheel.project.workspace import Workspace
    from freewheel.python.environments import Environment
    from freewheel.python.interpreters import InterpreterInfo

LOCK_NAME = "pylock.toml"

Chosen = tuple[Package, PackageVcs | PackageDirectory | PackageArchive | PackageWheel | PackageSdist]


class Selection(msgspec.Struct, frozen=True):
    """What to install besides the project's dependencies, with uv's ``sync`` flags.

    Groups start from the lock's default groups (none with
    *no_default_groups*; all with *all_groups*), gain *groups* and lose
    *no_groups* (and ``dev`` with *no_dev*). *only_groups* installs those
    groups alone, without the project's own dependencies. *all_extras*
    selects every extra the lock knows.
    """

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    no_groups: tuple[str, ...] = ()
    no_dev: bool = False
    only_groups: tuple[str, ...] = ()
    all_groups: bool = False
    no_default_groups: bool = False
    install_project: bool = True


class LockedInstall(msgspec.Struct, frozen=True):
    """One package of the selection, as the installer needs it.

    A wheel has *dist* (where to get it, and its hashes); a local project
    has *directory* and *editable*, *source_key* (a digest of its metadata
    files, recorded when it is installed, compared at the next sync), and
    *version* ``None`` when the lock does not record it (it is known once
    built); a git checkout or an
    archive to build has *reference*, a direct reference URL pinned to
    its commit or its sha256 (``git+URL@COMMIT#subdirectory=...``), and
    a checkout the *revision* the lock says was asked for (a tag, a branch).
    """

    name: NormalizedName
    version: Version | None
    dist: DistFile | None = None
    directory: Path | None = None
    editable: bool = False
    reference: str | None = None
    revision: str | None = None
    source_key: str | None = None


def read_pylock(path: Path) -> Pylock:
    """The lock at *path*, validated.

    :raises UsageError: when there is none.
    :raises InputError: when it is not a valid PEP 751 lock.
    """
    shown = display_path(path, Path.cwd())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"No lock file: `{shown}` does not exist.", hint="run `freewheel lock` to write it"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"`{shown}` cannot be read: {exc}.", hint="run `freewheel lock` to write it again") from None
    try:
        return Pylock.from_dict(data)
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise InputError(
            f"`{shown}` is not a valid lock file: {exc}.", hint="run `freewheel lock` to write it again"
        ) from None


def chosen_extras_and_groups(
    lock: Pylock, selection: Selection, shown: str, *, root: ProjectConfig | None = None
) -> tuple[list[str], list[str]]:
    """The extras and the dependency groups *selection* asks of *lock*,
    which must not hold two members of a conflict the workspace *root*
    declares.

    :raises UsageError: naming an extra or a group the lock does not know,
        or two selected that conflict.
    """
    extras, groups = _chosen(lock, selection, shown)
    if root is not None:
        _refuse_conflicts(root, extras, groups)
    return extras, groups


def _refuse_conflicts(root: ProjectConfig, extras: Collection[str], groups: Collection[str]) -> None:
    """Refuse a selection of *extras* and *groups* holding two members of
    one of *root*'s declared conflicts, in uv's words.

    A conflict's extras and groups are named as the lock names them, one
    namespace for the whole workspace, whichever member declares them.
    """
    for conflict in root.conflicts:
        hit = [item for item in conflict if item.extra in extras or item.group in groups]
        if len(hit) < 2:
            continue
        first, second = hit[:2]
        kinds = {first.extra is None, second.extra is None}
        if kinds == {False}:
            pair = f"Extras `{first.extra}` and `{second.extra}`"
        elif kinds == {True}:
            pair = f"Groups `{first.group}` and `{second.group}`"
        else:
            extra, group = (first, second) if first.extra is not None else (second, first)
            pair = f"Extra `{extra.extra}` and group `{group.group}`"
        owner = root.name or ""
        members = ", ".join(
            f"`{item.package or owner}[{item.extra}]`" if item.extra is not None else f"`{item.package or owner}:{item.group}`"
            for item in conflict
        )
        raise UsageError(
            f"{pair} are incompatible with the declared conflicts: {{{members}}}.",
            hint=f"`{root.settings_table}.conflicts` declares that they are never installed together; select one of them",
        )


def _chosen(lock: Pylock, selection: Selection, shown: str) -> tuple[list[str], list[str]]:
    known_extras = [canonicalize_name(e) for e in lock.extras or ()]
    known_groups = [canonicalize_name(g) for g in lock.dependency_groups or ()]

    def check(names: Sequence[str], known: Sequence[str], what: str, flag: str) -> list[NormalizedName]:
        normalized = [canonicalize_name(n) for n in names]
        for name in normalized:
            if name not in known:
                listed = ", ".join(f"`{k}`" for k in known) or "none"
                raise UsageError(
                    f"{what} `{name}` ({flag}) is not in `{shown}` (it knows: {listed}).",
                    hint="check the name, or run `freewheel lock` if the project declares it",
                )
        return normalized

    extras = known_extras if selection.all_extras else check(selection.extras, known_extras, "The extra", "--extra")
    if selection.only_groups:
        return extras, check(selection.only_groups, known_groups, "The dependency group", "--only-group")
    groups: list[str] = []
    if selection.all_groups:
        groups = list(known_groups)
    elif not selection.no_default_groups:
        groups = [canonicalize_name(g) for g in lock.default_groups or ()]
    groups += check(selection.groups, known_groups, "The dependency group", "--group")
    dropped = {*check(selection.no_groups, known_groups, "The dependency group", "--no-group")}
    if selection.no_dev:
        dropped.add(canonicalize_name("dev"))
    return extras, [g for g in dict.fromkeys(groups) if g not in dropped]


class Scope(msgspec.Struct, frozen=True):
    """The workspace projects a sync installs for (``--package``,
    ``--all-packages``): *projects*, or every one when *everything*;
    *members* are all the workspace's projects by name, *project* the
    one ``--no-install-project`` leaves out, and *root* the workspace
    root, whose declared conflicts the selection must respect."""

    projects: tuple[ProjectConfig, ...]
    members: Mapping[NormalizedName, ProjectConfig]
    everything: bool
    project: NormalizedName | None = None
    root: ProjectConfig | None = None


def select_installs(
    lock: Pylock,
    selection: Selection,
    *,
    lock_path: Path,
    markers: Mapping[str, str],
    tags: Sequence[Tag],
    scope: Scope,
) -> list[LockedInstall]:
    """The packages of *lock* (read from *lock_path*) to install for an
    interpreter with *markers* and *tags*, as *selection* asks, for the
    projects of *scope*.

    Unless *scope* is every project and every one's dependencies are asked
    for, the selection is cut down to what the scope's projects (with
    ``only_groups``, their groups) require, through the lock's
    ``dependencies`` and the workspace members' requirements. Unless
    ``install_project``, the scope's *project* is left out.

    :raises UsageError: when a selected package has no file installable here,
        or the selection holds extras or groups that conflict.
    """
    shown = display_path(lock_path, Path.cwd())
    extras, groups = chosen_extras_and_groups(lock, selection, shown, root=scope.root)
    if lock.requires_python is not None and not lock.requires_python.contains(
        markers["python_full_version"], prereleases=True
    ):
        raise UsageError(
            f"`{shown}` is for Python {lock.requires_python}; the project environment runs "
            f"Python {markers['python_full_version']}.",
            hint="recreate it with `freewheel venv --python VERSION`, or pass --python to sync",
        )
    environment = dict(markers)
    try:
        chosen = list(
            lock.select(environment=environment, tags=tags, extras=extras, dependency_groups=groups)  # type: ignore[arg-type]
        )
    except PylockSelectError as exc:
        raise UsageError(
            f"`{shown}` offers nothing installable here: {exc}",
            hint="run `freewheel lock` to lock for this platform, or check `environments`",
        ) from None
    if selection.only_groups or not scope.everything:
        roots = [
            requirement
            for project in scope.projects
            for requirement in _requirements_of(project, extras, groups, groups_only=bool(selection.only_groups))
        ]
        chosen = _reachable(chosen, roots, environment, scope.members)
    installs = [_install_of(package, chosen_file, lock_path) for package, chosen_file in chosen]
    if not selection.install_project:
        installs = [i for i in installs if i.name != scope.project]
    return installs


def _requirements_of(
    project: ProjectConfig, extras: Collection[str], groups: Collection[str], *, groups_only: bool
) -> list[Requirement]:
    """What *project* needs with *extras* and *groups* selected: itself and
    its dependencies, or (*groups_only*) its groups alone."""
    needed = [
        requirement
        for group in groups
        for requirement in project.dependency_groups.get(canonicalize_name(group), ())
    ]
    if groups_only:
        return needed
    if project.name is not None:
        needed.append(Requirement(project.name))
    needed += project.dependencies
    for extra in extras:
        needed += project.optional_dependencies.get(canonicalize_name(extra), ())
    return needed


def _reachable(
    chosen: list[Chosen],
    roots: Sequence[Requirement],
    environment: Mapping[str, str],
    members: Mapping[NormalizedName, ProjectConfig],
) -> list[Chosen]:
    """The entries of *chosen* that *roots* need, following each entry's
    ``dependencies``, and a workspace member's own requirements (with the
    extras asked of it) where one is needed."""
    by_name = {package.name: (package, file) for package, file in chosen}
    wanted = list(roots)
    seen: dict[NormalizedName, None] = {}
    expanded: set[tuple[NormalizedName, str]] = set()
    while wanted:
        requirement = wanted.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        member = members.get(name)
        if member is not None:
            # A member's lock entry lists the needs of all its extras and
            # groups: its own tables say what this requirement needs.
            for extra in ("", *requirement.extras):
                if (name, extra) not in expanded:
                    expanded.add((name, extra))
                    wanted += member.optional_dependencies.get(canonicalize_name(extra), ()) if extra else member.dependencies
            if name in by_name:
                seen[name] = None
            continue
        if name in seen or name not in by_name:
            continue
        seen[name] = None
        package = by_name[name][0]
        wanted.extend(Requirement(d["name"]) for d in package.dependencies or () if "name" in d)
    return [by_name[name] for name in by_name if name in seen]


def _install_of(package: Package, chosen: object, lock_path: Path) -> LockedInstall:
    name, version = package.name, package.version
    wheel_archive = isinstance(chosen, PackageArchive) and (chosen.path or chosen.url or "").endswith(".whl")
    if isinstance(chosen, (PackageWheel, PackageSdist)) or wheel_archive:
        assert isinstance(chosen, (PackageWheel, PackageSdist, PackageArchive))
        url = chosen.url if chosen.path is None else _local_url(chosen.path, lock_path)
        # A URL's last segment is percent-encoded (``2.5.1%2Bcpu``).
        filename = chosen.filename if not wheel_archive else unquote(Path(urlsplit(url or "").path).name)
        tags: frozenset[Tag] = frozenset()
        if isinstance(chosen, PackageSdist):
            # Built into a wheel when it is installed.
            file_version = parse_sdist_filename(filename)[1]
        else:
            _, file_version, _, tags = parse_wheel_filename(filename)
        version = version or file_version
        index = Index(url=package.index or lock_path.as_uri(), origin=str(lock_path))
        dist = DistFile(
            filename=filename,
            url=url or "",
            index=index,
            name=name,
            version=version,
            kind="sdist" if isinstance(chosen, PackageSdist) else "wheel",
            tags=tags,
            hashes=dict(chosen.hashes),
            upload_time=chosen.upload_time,
            size=chosen.size,
        )
        return LockedInstall(name, version, dist=dist)
    if isinstance(chosen, PackageDirectory):
        from freewheel.project.lock import source_key

        directory = Path(os.path.normpath(lock_path.parent / chosen.path))
        return LockedInstall(
            name, version, directory=directory, editable=bool(chosen.editable), source_key=source_key(directory)
        )
    if isinstance(chosen, PackageVcs):
        url = chosen.url or _local_url(chosen.path or "", lock_path)
        reference = f"{chosen.type}+{url}@{chosen.commit_id}" + _fragment(None, chosen.subdirectory)
        return LockedInstall(name, version, reference=reference, revision=chosen.requested_revision)
    assert isinstance(chosen, PackageArchive), "a lock's package is a wheel, an sdist, a directory, a checkout or an archive"
    url = chosen.url or _local_url(chosen.path or "", lock_path)
    return LockedInstall(name, version, reference=url + _fragment(chosen.hashes.get("sha256"), chosen.subdirectory))


def _fragment(sha256: str | None, subdirectory: str | None) -> str:
    """A direct reference's ``#...``, as an installed one's PEP 610 record gives it back."""
    parts = [*([f"sha256={sha256}"] if sha256 else []), *([f"subdirectory={subdirectory}"] if subdirectory else [])]
    return "#" + "&".join(parts) if parts else ""


def _local_url(path: str, lock_path: Path) -> str:
    return Path(os.path.normpath(lock_path.parent / path)).as_uri()


def plan_sync(
    installs: Sequence[LockedInstall],
    installed: Sequence[InstalledDistribution],
    *,
    exact: bool,
    reinstall: bool | Collection[NormalizedName] = False,
) -> Plan[LockedInstall]:
    """What to change so that the environment holds *installs*.

    A local project counts as installed when it is installed from the same
    directory, editable as asked, from the same metadata files (its
    *source_key*, as uv's default ``cache-keys``: its ``pyproject.toml``,
    ``setup.py`` and ``setup.cfg``), and at the locked version when the
    lock records one. With *exact*, everything else is removed.
    """
    current = {dist.name: dist for dist in installed}
    pins = []
    elsewhere = set()
    for item in installs:
        dist = current.get(item.name)
        if item.dist is None and dist is not None:
            if _same_source(item, dist):
                item = msgspec.structs.replace(item, version=dist.version)
            else:
                elsewhere.add(item.name)
        pins.append(item)
    if reinstall is not True and elsewhere:
        # The same version from another place is another install.
        reinstall = {*(reinstall or ()), *elsewhere}
    return plan(pins, {d.name: d.version for d in installed}, reinstall=reinstall, sync=exact)  # type: ignore[arg-type]


def _same_source(item: LockedInstall, dist: InstalledDistribution) -> bool:
    """Whether *dist* is installed from where the local project, checkout
    or archive *item* comes from (and at its version, when the lock
    records one)."""
    from freewheel.install.site_packages import requirement_url

    url = dist.direct_url
    if url is None or (item.version is not None and item.version != dist.version):
        return False
    if item.reference is not None:
        return requirement_url(url) == item.reference
    assert item.directory is not None
    return (
        url.url == item.directory.as_uri()
        and dist.editable == item.editable
        and dist.source_key == item.source_key
    )


def fetch_wheels(
    dists: Sequence[DistFile],
    settings: Settings,
    cache: Cache,
    *,
    builds: SdistBuilds | None = None,
    on_done: Callable[[], None] = lambda: None,
) -> list[Path]:
    """Local paths of *dists*, downloaded (concurrently, checked against
    their hashes) into *cache* when not there already. With *builds*, an
    sdist's path is that of the wheel *builds* makes of it (from the build
    cache when it was built before)."""
    import asyncio

    from freewheel.cache.http import open_fetcher
    from freewheel.dists.builds.sdist import fetch_wheel
    from freewheel.dists.downloads import DistStore
    from freewheel.resolver.source import AsyncRunner

    if not dists:
        return []
    runner = AsyncRunner()
    fetcher = open_fetcher(settings, cache)
    try:
        store = DistStore(cache.bucket("wheels"), fetcher)

        async def one(dist: DistFile) -> Path:
            path = await (store.fetch(dist) if builds is None else fetch_wheel(store, dist, builds))
            on_done()
            return path

        async def every() -> list[Path]:
            return list(await asyncio.gather(*(one(d) for d in dists)))

        return runner.run(every())
    finally:
        runner.close(fetcher.aclose)


def project_environment(
    workspace: Workspace, *, python: str | None, cache_dir: Path | None
) -> tuple[Environment, InterpreterInfo | None]:
    """The workspace's ``.venv``, and the interpreter it was just created
    with (``None`` when it was there already).

    It is created when missing, and created again when *python* (``--python``)
    names another interpreter than the one it was made from, as uv does.

    :raises UsageError: when ``.venv`` exists but is no virtual environment,
        or its interpreter does not fit the project's ``requires-python``.
    """
    from freewheel.python.environments import Environment
    from freewheel.python.interpreters import find_python, probe
    from freewheel.python.venv import base_executable, create_venv, is_virtualenv

    root = workspace.directory / ".venv"
    shown = display_path(root, Path.cwd())
    requires = workspace.root.requires_python or workspace.project.requires_python
    if root.exists() and not is_virtualenv(root):
        raise UsageError(
            f"`{shown}` exists but is not a virtual environment.",
            hint="remove it, and sync again to create the project environment",
        )
    base = None
    current = probe(root / "bin" / "python", cache_dir=cache_dir) if root.exists() else None
    if current is None or python is not None:
        wanted = probe(find_python(python, cwd=workspace.directory, cache_dir=cache_dir), cache_dir=cache_dir)
        if current is None or base_executable(wanted) != base_executable(current):
            base = wanted
    if base is not None:
        _require_python(base, requires, f"The interpreter {base.executable} is", "pass --python with a version that fits")
        create_venv(root, base, clear=current is not None)
        current = probe(root / "bin" / "python", cache_dir=cache_dir)
    else:
        assert current is not None
        _require_python(
            current,
            requires,
            f"The project environment `{shown}` runs",
            "pass --python with a version that fits to create it again",
        )
    assert current is not None
    return Environment.from_interpreter(current), base


def _require_python(interpreter: InterpreterInfo, requires: SpecifierSet | None, subject: str, hint: str) -> None:
    """Refuse *interpreter* (*subject* names it) when its Python is not one *requires* admits."""
    version = interpreter.markers["python_full_version"]
    if requires is not None and not requires.contains(version, prereleases=True):
        raise UsageError(f"{subject} Python {version}, but the project requires Python {requires}.", hint=hint)


class SyncResult(msgspec.Struct, frozen=True):
    """What a sync did (or, with ``dry_run``, would do): the *plan*, the
    versions installed before (*before*), and each installed package's
    ``(name, version, directory)`` (*directory* for a local project).
    *prepared* is the seconds spent comparing and downloading (only
    comparing, when nothing changes), *applied* those spent installing."""

    plan: Plan[LockedInstall]
    before: Mapping[NormalizedName, Version]
    installed: tuple[tuple[NormalizedName, Version, Path | None], ...]
    prepared: float
    applied: float


class Bar(Protocol):
    """What :func:`sync_environment` needs of a progress bar (``freewheel.cli.progress.Bar``)."""

    def __enter__(self) -> Bar: ...

    def __exit__(self, *exc: object) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


def sync_environment(
    environment: Environment,
    installs: Sequence[LockedInstall],
    *,
    settings: Settings,
    cache: Cache,
    exact: bool = True,
    reinstall: bool | Collection[NormalizedName] = False,
    dry_run: bool = False,
    link_mode: str | None = None,
    compile_bytecode: bool = False,
    on_copy_fallback: Callable[[], None] | None = None,
    bar: Callable[[str, int], Bar] | None = None,
    on_finished: Callable[[str], None] = lambda message: None,
    builds: SdistBuilds | None = None,
) -> SyncResult:
    """Make *environment* hold exactly *installs* (with *exact*; else at
    least them), all at once or not at all.

    What a killed command left half done in *environment* is finished
    first (*on_finished* gets what was done). Wheels are downloaded into
    *cache* only when something is to be installed; local projects, git
    checkouts and archives that are no wheels are built by *builds*
    (``None``: building is off), editable projects as PEP 660 wheels.
    *bar* makes a progress bar for each phase.
    """
    import tempfile
    import time

    from freewheel.install import WheelToInstall
    from freewheel.install.batch import apply_changes
    from freewheel.install.site_packages import installed_distributions
    from freewheel.install.transaction import finish_interrupted
    from freewheel.python.environments import environment_lock

    def no_bar(description: str, total: int) -> Bar:
        return _NoBar()

    bar = bar or no_bar
    started = time.monotonic()
    with environment_lock(environment.root):
        finished = finish_interrupted(environment.root)
        if finished:
            on_finished(finished)
        current = installed_distributions(environment)
        before = {d.name: d.version for d in current}
        changes = plan_sync(installs, current, exact=exact, reinstall=reinstall)
        if dry_run or changes.empty:
            return SyncResult(changes, before, (), time.monotonic() - started, 0.0)
        built = [item for item in changes.install if item.dist is None or item.dist.kind == "sdist"]
        if built and builds is None:
            label = f"{built[0].name} {built[0].version}" if built[0].version is not None else built[0].name
            raise UsageError(f"{label} is built from source to be installed, and --no-build forbids building.")
        wheels_wanted = [item for item in changes.install if item.dist is not None]
        with bar("Downloading", len(wheels_wanted)) as downloading:
            paths = fetch_wheels(
                [item.dist for item in wheels_wanted if item.dist is not None],
                settings,
                cache,
                builds=builds,
                on_done=downloading.advance,
            )
        wheels = [
            # A wheel built from an sdist was checked as the sdist.
            WheelToInstall(path, expected_sha256=item.dist.hashes.get("sha256") if item.dist.kind == "wheel" else None)
            for item, path in zip(wheels_wanted, paths, strict=True)
            if item.dist is not None
        ]
        with tempfile.TemporaryDirectory(prefix="freewheel-build-") as build_dir:
            wheels += _built(
                [item for item in changes.install if item.dist is None], Path(build_dir), builds, settings, cache
            )
            prepared = time.monotonic()
            with bar("Installing", len(wheels)) as installing:
                results = apply_changes(
                    environment,
                    wheels,
                    changes.remove,
                    archive_bucket=cache.bucket("archive"),
                    link_mode=link_mode,  # type: ignore[arg-type]
                    compile_bytecode=compile_bytecode,
                    on_copy_fallback=on_copy_fallback,
                    on_unpacked=installing.advance,
                )
    directories = {item.name: item.directory for item in changes.install}
    return SyncResult(
        changes,
        before,
        tuple((r.name, r.version, directories.get(r.name)) for r in results),
        prepared - started,
        time.monotonic() - prepared,
    )


class _NoBar:
    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None


def _built(
    items: Sequence[LockedInstall], build_dir: Path, builds: SdistBuilds | None, settings: Settings, cache: Cache
) -> list[WheelToInstall]:
    """The wheels that install *items*: local projects built from their
    directories, git checkouts and archives brought here (hash-checked)
    and built unless they are wheels, into *build_dir* or the build cache."""
    from freewheel.dists.builds.frontend import Source
    from freewheel.dists.builds.project import check_project
    from freewheel.dists.builds.sdist import Buildable
    from freewheel.dists.direct import materialize_all
    from freewheel.install import WheelToInstall

    if not items:
        return []
    assert builds is not None, "sync_environment refuses what needs building when building is off"
    references = [item for item in items if item.reference is not None]
    found = materialize_all([(i.reference or "", i.name) for i in references], settings=settings, cache=cache, builds=builds)
    brought = {item.name: materialized for item, materialized in zip(references, found, strict=True)}
    wheels = []
    for item in items:
        label = f"{item.name} {item.version}" if item.version is not None else item.name
        if item.directory is not None:
            project = check_project(item.directory)
            if item.editable:
                wheel = builds.frontend.build(Source(project, str(project)), "editable", build_dir)
            else:
                wheel = builds.wheel(Buildable(project, label, item.name))
            direct_url = {"url": item.directory.as_uri(), "dir_info": {"editable": True} if item.editable else {}}
        else:
            materialized = brought[item.name]
            wheel = materialized.path
            if not wheel.name.endswith(".whl"):
                wheel = builds.wheel(Buildable(wheel, label, item.name, materialized.dist.hashes.get("sha256")))
            direct_url = dict(materialized.direct_url)
            if "vcs_info" in direct_url:
                # Checked out at the locked commit; asked for as the lock says.
                info = {k: v for k, v in direct_url["vcs_info"].items() if k != "requested_revision"}
                direct_url["vcs_info"] = {**info, **({"requested_revision": item.revision} if item.revision else {})}
        wheels.append(WheelToInstall(wheel, requested=True, direct_url=direct_url, source_key=item.source_key))
    return wheels


def lock_file(workspace: Workspace) -> Path:
    """The workspace's ``pylock.toml``, which must exist.

    :raises UsageError: when there is none.
    """
    path = workspace.directory / LOCK_NAME
    if not path.is_file():
        raise UsageError(
            f"No lock file: `{display_path(path, Path.cwd())}` does not exist.",
            hint="run `freewheel lock` first",
        )
    return path
