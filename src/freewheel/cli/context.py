"""What every resolving command needs before it starts: merged settings,
the ordered indexes, and the target environment."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from freewheel.config.settings import (
    IndexSettings,
    Layer,
    Settings,
    Sourced,
    cli_layer,
    env_layer,
    find_project_root,
    home_config_path,
    index_settings,
    no_config,
    resolve_settings,
)
from freewheel.errors import UsageError
from freewheel.inputs.gather import Gathered
from freewheel.inputs.pyproject import (
    IndexConfig,
    read_freewheel_toml,
    read_index_config,
)
from freewheel.python.target import TargetEnvironment
from freewheel.util.fs import display_path, file_url_path

if TYPE_CHECKING:
    from freewheel.config.indexes import Index
    from freewheel.python.interpreters import InterpreterInfo


class CommandContext(msgspec.Struct, frozen=True):
    """What a resolving command starts from: its typed settings, the target,
    and how much to say."""

    cwd: Path
    settings: Settings
    target: TargetEnvironment
    quiet: int
    verbose: int

    @property
    def indexes(self) -> IndexSettings:
        return self.settings.index


def warn(message: str, *, quiet: int) -> None:
    """Print ``warning: MESSAGE`` on standard error, unless -q was given (as uv)."""
    if not quiet:
        print(f"warning: {message}", file=sys.stderr)


def _existing_locations(indexes: IndexSettings, cwd: Path, *, quiet: int) -> IndexSettings:
    """*indexes* without the local find-links locations that do not exist.

    pip warns about such a location and goes on without it (a wheelhouse
    that is sometimes absent is common in shared configurations); so does
    freewheel, naming the location and where it was configured.
    """
    kept = []
    for index in indexes.indexes:
        path = file_url_path(index.url) if index.format == "flat" else None
        if path is not None and not path.exists():
            warn(
                f"The find-links location {display_path(path, cwd)} (from {index.origin}) "
                "does not exist; it is ignored.",
                quiet=quiet,
            )
        else:
            kept.append(index)
    return msgspec.structs.replace(indexes, indexes=tuple(kept))


def _config_layer(config: IndexConfig, name: str) -> Layer:
    default: object = next((i for i in config.indexes if i.default), None) or config.index_url
    return Layer(
        name,
        {
            "default_index": default,
            "extra_index_urls": config.extra_index_urls,
            "find_links": config.find_links,
            "no_index": config.no_index,
            "index_strategy": config.index_strategy,
            "prerelease": config.prerelease,
            "resolution": config.resolution,
            "exclude_newer": config.exclude_newer,
        },
    )


def _project_config(gathered: Gathered, cwd: Path) -> IndexConfig:
    """``freewheel.toml`` beside the project wins over its ``pyproject.toml``, as
    ``uv.toml`` does in uv."""
    root = gathered.pyprojects[0].parent if gathered.pyprojects else find_project_root(cwd)
    if root is None:
        return IndexConfig()
    if (root / "freewheel.toml").is_file():
        return read_freewheel_toml(root / "freewheel.toml")
    if (root / "pyproject.toml").is_file():
        return read_index_config(root / "pyproject.toml")
    return IndexConfig()


def _pinnable_indexes(gathered: Gathered) -> tuple[Index, ...]:
    """With ``--no-config``, the named indexes of the project's
    ``pyproject.toml``, explicit: as uv, a source naming one of them still
    finds it, while no other package is looked up there."""
    if not gathered.pyprojects or not gathered.pyprojects[0].is_file():
        return ()
    indexes = read_index_config(gathered.pyprojects[0]).indexes
    return tuple(msgspec.structs.replace(i, explicit=True, default=False) for i in indexes if i.name is not None)


def _pip_layer(section: str, environ: Mapping[str, str]) -> Layer:
    from freewheel.config.pip import PipSetting, load_pip_config

    pip = load_pip_config(section=section, environ=environ)

    def sourced(setting: PipSetting | None) -> Sourced[object] | None:
        return None if setting is None else Sourced(setting.value, setting.origin)

    return Layer(
        "pip configuration",
        {
            "default_index": sourced(pip.index_url),
            "extra_index_urls": sourced(pip.extra_index_urls),
            "find_links": sourced(pip.find_links),
            "no_index": sourced(pip.no_index),
            "cert": sourced(pip.cert),
            "allow_insecure_host": sourced(pip.trusted_hosts),
        },
    )


def _files_layer(gathered: Gathered) -> Layer:
    index_url = next((f.index_url for f in reversed(gathered.files) if f.index_url), None)
    no_index = any(f.no_index for f in gathered.files) or None
    return Layer("requirements file", {"default_index": index_url, "no_index": no_index})


def _target(args: argparse.Namespace, base: InterpreterInfo | None) -> TargetEnvironment:
    from freewheel.python.target import for_request

    python_version = getattr(args, "python_version", None)
    python_platform = getattr(args, "python_platform", None)
    return for_request(base, python_version=python_version, python_platform=python_platform)


def base_interpreter(settings: Settings, cwd: Path) -> InterpreterInfo | None:
    """The interpreter a resolution starts from: ``--python`` (or
    ``FREEWHEEL_PYTHON``), else the one discovery finds from *cwd*; ``None``
    when none was asked for and none is found (the running one stands in)."""
    return _start_base_interpreter(settings, cwd)[0]()


def _start_base_interpreter(settings: Settings, cwd: Path) -> tuple[Callable[[], InterpreterInfo | None], bool]:
    """:func:`base_interpreter`, started: the function returned waits for
    it, and the flag says whether it is known already (no process runs)."""
    from freewheel.python.interpreters import find_python, start_probe

    requested = settings.resolver.python.value
    # With no interpreter asked for and none found (or none that works),
    # resolve for the one running freewheel, as a bare machine would expect.
    try:
        started = start_probe(find_python(requested, cwd=cwd))
    except UsageError:
        if requested is not None:
            raise
        return (lambda: None), True

    def base() -> InterpreterInfo | None:
        try:
            return started.wait()
        except UsageError:
            if requested is not None:
                raise
            return None

    return base, started.known


def prepare_network(settings: Settings) -> None:
    """Start loading the certificates the run will trust, when it will surely
    connect: it is not offline, and its cache holds no responses yet (a new
    cache, or ``--no-cache``). They then load while the resolving modules
    import, not right before the first request. A run the cache may serve
    whole starts no thread for them."""
    network, cached = settings.network, settings.cache
    if network.offline.value:
        return
    from freewheel.cache import cache_root, holds_responses

    if cached.no_cache.value or not holds_responses(cache_root(cached.directory.value, os.environ)):
        from freewheel.net.tls import prepare_trust_store

        prepare_trust_store(os.environ, network.cert.value)


def build_context(
    args: argparse.Namespace,
    gathered: Gathered,
    *,
    pip_section: str,
    interpreter: InterpreterInfo | None = None,
) -> CommandContext:
    """Merge every settings layer for a command.

    The target is *interpreter* (an install's environment) when given,
    else the interpreter ``--python`` or discovery finds.
    """
    return start_context(args, gathered, pip_section=pip_section, interpreter=interpreter).finish()


class PendingContext(NamedTuple):
    """A command's settings, while the interpreter it targets is described
    (see :func:`start_context`); :attr:`finish` waits for that, and returns
    the whole context. While it would wait, :attr:`guess` returns at once
    the context the running interpreter would give, which is usually the
    target (to start work that a wrong guess only wastes); it is ``None``
    when the target is known already."""

    settings: Settings
    finish: Callable[[], CommandContext]
    guess: Callable[[], CommandContext] | None


def start_context(
    args: argparse.Namespace,
    gathered: Gathered,
    *,
    pip_section: str,
    interpreter: InterpreterInfo | None = None,
) -> PendingContext:
    """:func:`build_context` in two steps: the settings at once, the target
    when :attr:`PendingContext.finish` is called. The interpreter found is
    asked to describe itself meanwhile (when the cache does not know it)."""
    cwd = Path.cwd()
    environ = os.environ
    env = env_layer(environ)
    layers = [cli_layer(args), env, _files_layer(gathered)]
    ignore_files = no_config(layers)
    config = IndexConfig() if ignore_files else _project_config(gathered, cwd)
    pinnable = _pinnable_indexes(gathered) if ignore_files else ()
    if config.source:
        layers.append(_config_layer(config, config.source))
    user_file = home_config_path(environ)
    user = IndexConfig()
    if not ignore_files and user_file.is_file():
        user = read_freewheel_toml(user_file)
        layers.append(_config_layer(user, str(user_file)))
    if not ignore_files:
        layers.append(_pip_layer(pip_section, environ))
    frozen = tuple(layers)

    file_extras = [
        Sourced(url, "requirements file") for f in gathered.files for url in f.extra_index_urls
    ]
    file_links = [Sourced(url, "requirements file") for f in gathered.files for url in f.find_links]
    from freewheel.config.pip import pip_default_index_url

    indexes = index_settings(
        frozen,
        configured_indexes=config.indexes + user.indexes + pinnable,
        pins={**user.pins, **config.pins},
        file_extra_index_urls=file_extras,
        file_find_links=file_links,
        default_index=pip_default_index_url,
        cwd=cwd,
        sources_table="[tool.uv.sources]" if config.source == "[tool.uv]" else "[tool.freewheel.sources]",
    )
    settings = resolve_settings(frozen, _existing_locations(indexes, cwd, quiet=args.quiet))
    base, known = ((lambda: interpreter), True) if interpreter is not None else _start_base_interpreter(settings, cwd)

    def context(interpreter: InterpreterInfo | None) -> CommandContext:
        return CommandContext(
            cwd=cwd, settings=settings, target=_target(args, interpreter), quiet=args.quiet, verbose=args.verbose
        )

    return PendingContext(settings, lambda: context(base()), None if known else (lambda: context(interpreter)))
