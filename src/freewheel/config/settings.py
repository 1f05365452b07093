"""Settings from every layer, merged in one place, each remembering its origin.

Precedence, highest first: the command line, ``FREEWHEEL_*`` environment
variables, the project's configuration (``[tool.freewheel]``, else
``[tool.uv]``, in ``pyproject.toml``, or a ``freewheel.toml`` beside it),
the user's ``freewheel.toml``, and, for the ``pip`` commands, pip's own
configuration files and ``PIP_*`` variables. For each setting the highest
layer that sets it wins, lists included (``--extra-index-url`` on the
command line replaces pip.conf's extra indexes, as a ``PIP_*`` variable
replaces a pip.conf value in pip itself). Two exceptions follow uv: named
indexes (``--index`` and ``[[tool.freewheel.index]]``) from all layers
accumulate, and index options written inside requirements files join those
of the command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, Literal, TypeVar, cast, get_args
from urllib.parse import urlsplit

import msgspec
from packaging.utils import NormalizedName

from freewheel.config.indexes import Index, IndexFormat
from freewheel.errors import UsageError

T = TypeVar("T")

ENV_PREFIX = "FREEWHEEL_"


class Sourced(msgspec.Struct, Generic[T], frozen=True):
    """A setting's value and where it came from (for ``-v`` and errors)."""

    value: T
    origin: str


class Layer(msgspec.Struct, frozen=True):
    """One source of settings: a name and the values it sets."""

    name: str
    values: Mapping[str, object]


def first(layers: Sequence[Layer], key: str) -> Sourced[object] | None:
    """The value of *key* from the highest layer that sets it.

    A layer may hold a :class:`Sourced` value when its values come from
    several places (pip's files and variables); that origin is kept.
    """
    for layer in layers:
        value = layer.values.get(key)
        if isinstance(value, Sourced):
            return value
        if value is not None and value != () and value != []:
            return Sourced(value, layer.name)
    return None


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.replace(",", " ").split())


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


# Environment variables and how to read them, keyed by setting name.
_ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "index": ("INDEX", _split),
    "default_index": ("DEFAULT_INDEX", str),
    "extra_index_urls": ("EXTRA_INDEX_URL", _split),
    "find_links": ("FIND_LINKS", _split),
    "no_index": ("NO_INDEX", _truthy),
    "index_strategy": ("INDEX_STRATEGY", str),
    "prerelease": ("PRERELEASE", str),
    "resolution": ("RESOLUTION", str),
    "exclude_newer": ("EXCLUDE_NEWER", str),
    "python": ("PYTHON", str),
    "cache_dir": ("CACHE_DIR", str),
    "offline": ("OFFLINE", _truthy),
    "no_cache": ("NO_CACHE", _truthy),
    "keyring_provider": ("KEYRING_PROVIDER", str),
    "allow_insecure_host": ("INSECURE_HOST", _split),
    "no_config": ("NO_CONFIG", _truthy),
    "constraints": ("CONSTRAINT", _split),
}


def env_layer(environ: Mapping[str, str]) -> Layer:
    values: dict[str, object] = {}
    for key, (suffix, parse) in _ENV.items():
        raw = environ.get(ENV_PREFIX + suffix)
        if raw:
            values[key] = Sourced(parse(raw), ENV_PREFIX + suffix)
    # FREEWHEEL_INDEX_URL is the older spelling of FREEWHEEL_DEFAULT_INDEX.
    if "default_index" not in values and environ.get(ENV_PREFIX + "INDEX_URL"):
        values["default_index"] = Sourced(environ[ENV_PREFIX + "INDEX_URL"], ENV_PREFIX + "INDEX_URL")
    return Layer("environment", values)


def cli_layer(args: argparse.Namespace) -> Layer:
    """The settings given on the command line (``None``/empty when absent)."""
    values = dict(vars(args))
    values["extra_index_urls"] = values.pop("extra_index_url", [])
    values["default_index"] = values.get("default_index") or values.get("index_url")
    # As with uv, asking for upgrades asks the indexes again: a page cached
    # as fresh could hide the release wanted.
    if values.get("upgrade"):
        values["refresh"] = True
    if values.get("upgrade_package"):
        values["refresh_package"] = [*(values.get("refresh_package") or ()), *values["upgrade_package"]]
    return Layer("command line", values)


def parse_index_argument(value: str, origin: str) -> Index:
    """``--index [NAME=]URL`` as an :class:`Index`."""
    name, sep, url = value.partition("=")
    if sep and "://" not in name and "/" not in name and name:
        return Index(url=url, name=name, origin=origin)
    return Index(url=value, origin=origin)


def to_url(location: str, base: Path) -> str:
    """An index or find-links location as a URL (paths become ``file://``)."""
    if "://" in location:
        return location
    return Path(base, location).resolve().as_uri()


def parse_exclude_newer(value: str) -> datetime:
    """An RFC 3339 timestamp or a ``YYYY-MM-DD`` date (midnight UTC)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--exclude-newer {value!r} is not a date: use an RFC 3339 timestamp "
            "such as 2024-06-01T00:00:00Z or a date such as 2024-06-01."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class IndexSettings(msgspec.Struct, frozen=True):
    """Where packages come from, in the order they are consulted."""

    indexes: tuple[Index, ...]
    strategy: Sourced[str]
    pins: Mapping[NormalizedName, str]
    #: Where a user pins a package to an index in this project: a uv
    #: project keeps its ``[tool.uv.sources]`` (adding a freewheel table
    #: would switch its whole ``[tool.uv]`` configuration off).
    sources_table: str = "[tool.freewheel.sources]"

    @property
    def simple(self) -> tuple[Index, ...]:
        return tuple(i for i in self.indexes if i.format == "simple")

    @property
    def flat(self) -> tuple[Index, ...]:
        return tuple(i for i in self.indexes if i.format == "flat")


# Index fields that configure how an index is used, not where it is.
_PER_INDEX_SETTINGS = (
    "authenticate",
    "ignore_error_codes",
    "cache_control_api",
    "cache_control_files",
)
_UNSET = Index(url="")


def _location(index: Index) -> tuple[str, str]:
    return (index.url.rstrip("/"), index.format)


def _dedupe(indexes: Sequence[Index], configured: Sequence[Index]) -> tuple[Index, ...]:
    """*indexes* with each location once, at its first place.

    The first occurrence keeps its name and origin but takes the per-index
    settings it lacks from later occurrences and from the *configured*
    index at the same location: ``--index URL`` or ``--default-index URL``
    repeating a ``[[tool.uv.index]]`` entry must not drop its settings.
    """
    kept: dict[tuple[str, str], Index] = {}
    for index in indexes:
        kept.setdefault(_location(index), index)
    for index in [*indexes, *configured]:
        first = kept.get(_location(index))
        if first is None:
            continue
        missing = {
            field: getattr(index, field)
            for field in _PER_INDEX_SETTINGS
            if getattr(first, field) == getattr(_UNSET, field)
        }
        kept[_location(index)] = msgspec.structs.replace(first, **missing)
    return tuple(kept.values())


def _urls(setting: Sourced[tuple[str, ...]], cwd: Path, format: IndexFormat = "simple") -> list[Index]:
    return [Index(url=to_url(url, cwd), origin=setting.origin, format=format) for url in setting.value]


def _check_url(index: Index) -> None:
    """Refuse an index URL no URL parser reads (``http://[::1``), before
    anything tries to."""
    try:
        urlsplit(index.url).port  # reading the port is what checks it
    except ValueError as exc:
        raise UsageError(f"The index URL {index.url} (from {index.origin}) is not a valid URL: {exc}.") from None


def index_settings(
    layers: Sequence[Layer],
    *,
    configured_indexes: Sequence[Index],
    pins: Mapping[NormalizedName, str],
    file_extra_index_urls: Sequence[Sourced[str]] = (),
    file_find_links: Sequence[Sourced[str]] = (),
    default_index: Callable[[], str],
    cwd: Path,
    sources_table: str = "[tool.freewheel.sources]",
) -> IndexSettings:
    """Assemble the ordered index list from all layers.

    Order, highest priority first: ``--index``, ``--extra-index-url`` (then
    those in requirements files), the project's named indexes, then the
    default index. ``--find-links`` locations and ``format = "flat"``
    indexes are consulted alongside, for every package. A layer's
    ``default_index`` may be an :class:`Index` (a named ``default = true``
    entry) or a URL. A location given twice is asked once, with the
    per-index settings of its ``[[tool.uv.index]]`` entry if it has one.
    """
    indexes: list[Index] = []
    named = _setting(layers, "index", _texts, ())
    indexes += [parse_index_argument(value, named.origin) for value in named.value]
    indexes += _urls(_setting(layers, "extra_index_urls", _texts, ()), cwd)
    indexes += [Index(url=s.value, origin=s.origin) for s in file_extra_index_urls]
    indexes += [i for i in configured_indexes if not i.default]

    if _setting(layers, "no_index", _bool, False).value:
        indexes = [i for i in indexes if i.format == "flat"]
    else:
        default = first(layers, "default_index")
        if default is None:
            indexes.append(Index(url=default_index(), default=True, origin="pip's default index"))
        elif isinstance(default.value, Index):
            indexes.append(msgspec.structs.replace(default.value, default=True))
        else:
            indexes.append(Index(url=to_url(str(default.value), cwd), default=True, origin=default.origin))

    indexes += _urls(_setting(layers, "find_links", _texts, ()), cwd, format="flat")
    indexes += [Index(url=s.value, format="flat", origin=s.origin) for s in file_find_links]
    for index in indexes:
        _check_url(index)
    strategy = _setting(layers, "index_strategy", _choice(*INDEX_STRATEGIES), "first-index")
    return IndexSettings(
        _dedupe(indexes, configured_indexes),
        strategy,
        pins,
        sources_table,
    )


class NetworkSettings(msgspec.Struct, frozen=True):
    """How freewheel talks to indexes."""

    offline: Sourced[bool]
    keyring_provider: Sourced[str]
    cert: Sourced[str | None]
    insecure_hosts: Sourced[tuple[str, ...]]


class CacheSettings(msgspec.Struct, frozen=True):
    """Where the cache is, whether to use one, and what to ask again."""

    directory: Sourced[Path | None]
    no_cache: Sourced[bool]
    refresh: Sourced[bool]
    refresh_packages: Sourced[tuple[str, ...]]


class ResolverSettings(msgspec.Struct, frozen=True):
    """Which versions a resolution may choose, and for which interpreter."""

    prerelease: Sourced[PrereleaseMode]
    resolution: Sourced[str]
    exclude_newer: Sourced[datetime | None]
    python: Sourced[str | None]


class Settings(msgspec.Struct, frozen=True):
    """Every setting a command reads, typed, each value with its origin."""

    network: NetworkSettings
    cache: CacheSettings
    resolver: ResolverSettings
    index: IndexSettings


INDEX_STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")
PrereleaseMode = Literal["disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"]
PRERELEASE_MODES: tuple[str, ...] = get_args(PrereleaseMode)
RESOLUTION_MODES = ("highest", "lowest", "lowest-direct")
KEYRING_PROVIDERS = ("disabled", "subprocess")

def _setting(
    layers: Sequence[Layer], key: str, convert: Callable[[object, str], T], default: T
) -> Sourced[T]:
    """The typed value of *key* from the highest layer that sets it, else *default*."""
    found = first(layers, key)
    if found is None:
        return Sourced(default, "default")
    return Sourced(convert(found.value, found.origin), found.origin)


def _bool(value: object, origin: str) -> bool:
    return _truthy(value) if isinstance(value, str) else bool(value)


def _text(value: object, origin: str) -> str:
    return str(value)


def _texts(value: object, origin: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value)
    return (str(value),)


def _choice(*choices: str) -> Callable[[object, str], str]:
    def convert(value: object, origin: str) -> str:
        text = str(value)
        if text not in choices:
            raise UsageError(f"{origin} sets {text!r}, which is not one of: {', '.join(choices)}.")
        return text

    return convert


def no_config(layers: Sequence[Layer]) -> bool:
    """Whether configuration files are to be ignored (``--no-config``, ``FREEWHEEL_NO_CONFIG``)."""
    return _setting(layers, "no_config", _bool, False).value


def _prerelease(value: object, origin: str) -> PrereleaseMode:
    return cast(PrereleaseMode, _choice(*PRERELEASE_MODES)(value, origin))


def cache_settings(layers: Sequence[Layer]) -> CacheSettings:
    """The cache settings alone, for commands that read no other setting."""
    return CacheSettings(
        directory=_setting(layers, "cache_dir", lambda value, _: Path(str(value)).expanduser(), None),
        no_cache=_setting(layers, "no_cache", _bool, False),
        refresh=_setting(layers, "refresh", _bool, False),
        refresh_packages=_setting(layers, "refresh_package", _texts, ()),
    )


def resolve_settings(layers: Sequence[Layer], index: IndexSettings) -> Settings:
    """The typed settings of *layers* (highest first), with the *index* settings assembled from them.

    :raises UsageError: when a layer sets a value outside a setting's choices,
        naming where it was set.
    """
    return Settings(
        network=NetworkSettings(
            offline=_setting(layers, "offline", _bool, False),
            keyring_provider=_setting(layers, "keyring_provider", _choice(*KEYRING_PROVIDERS), "disabled"),
            cert=_setting(layers, "cert", _text, None),
            insecure_hosts=_setting(layers, "allow_insecure_host", _texts, ()),
        ),
        cache=cache_settings(layers),
        resolver=ResolverSettings(
            prerelease=_setting(layers, "prerelease", _prerelease, "if-necessary"),
            resolution=_setting(layers, "resolution", _choice(*RESOLUTION_MODES), "highest"),
            exclude_newer=_setting(layers, "exclude_newer", lambda value, _: parse_exclude_newer(str(value)), None),
            python=_setting(layers, "python", _text, None),
        ),
        index=index,
    )


def home_config_path(environ: Mapping[str, str]) -> Path:
    """The user's ``freewheel.toml``."""
    import platformdirs

    override = environ.get(ENV_PREFIX + "CONFIG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("freewheel")) / "freewheel.toml"


def find_project_root(start: Path) -> Path | None:
    """The nearest directory at or above *start* with a ``pyproject.toml``
    or ``freewheel.toml``."""
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file() or (directory / "freewheel.toml").is_file():
            return directory
    return None


def environ() -> Mapping[str, str]:
    return os.environ
