"""Option groups shared by several commands, named and spelled as uv's.

Each ``add_*`` function adds one group to a parser. Defaults are ``None`` (or
empty lists) so that :mod:`freewheel.config.settings` can tell "not given on the
command line" from an explicit value and fall back to the environment and
configuration files.
"""

from __future__ import annotations

import argparse

from freewheel.cli.console import COLOR_CHOICES
from freewheel.config.settings import (
    INDEX_STRATEGIES,
    KEYRING_PROVIDERS,
    PRERELEASE_MODES,
    RESOLUTION_MODES,
)


def package_name(text: str) -> str:
    """*text*, checked to be a project name (an argparse ``type``): an option
    naming a package that no name can match would otherwise do nothing,
    silently."""
    from packaging.utils import InvalidName, canonicalize_name

    try:
        canonicalize_name(text, validate=True)
    except InvalidName:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid package name (letters, digits, '.', '-' and '_', "
            "starting and ending with a letter or digit)"
        ) from None
    return text


def add_global_options(parser: argparse.ArgumentParser, *, cache: bool = True, network: bool = True) -> None:
    """The options of every command; with *cache*, ``--cache-dir`` and
    ``--no-cache``; with *network*, those that only matter to a command
    that fetches (``--offline``, ``--refresh``, TLS). A command that would
    ignore an option does not take it: the user learns so at once."""
    group = parser.add_argument_group("Global options")
    group.add_argument("-q", "--quiet", action="count", default=0, help="Use quiet output")
    group.add_argument("-v", "--verbose", action="count", default=0, help="Use verbose output")
    group.add_argument(
        "--no-config",
        action="store_true",
        default=None,
        help="Ignore configuration files: pyproject.toml and freewheel.toml settings, "
        "the user configuration, and pip's configuration files and PIP_* variables",
    )
    group.add_argument("--no-progress", action="store_true", default=None, help="Hide progress output")
    group.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default=None,
        help="Colour the error, warning and hint prefixes: auto (on a terminal, unless NO_COLOR is set), always or never",
    )
    group.add_argument("--directory", help="Change to this directory before running the command")
    if cache:
        group.add_argument("--cache-dir", help="Path to the cache directory")
        group.add_argument("-n", "--no-cache", action="store_true", default=None, help="Don't use the cache")
    if network:
        group.add_argument("--offline", action="store_true", default=None, help="Disable network access")
        group.add_argument(
            "--refresh", action="store_true", default=None, help="Revalidate everything cached"
        )
        group.add_argument(
            "--refresh-package",
            action="append",
            type=package_name,
            default=[],
            metavar="PACKAGE",
            help="Revalidate what is cached for this package",
        )
        group.add_argument("--cert", metavar="FILE", help="A PEM bundle of certificate authorities to trust")
        group.add_argument(
            "--allow-insecure-host",
            action="append",
            default=[],
            metavar="HOST",
            help="Skip TLS verification for this host (host, host:port or URL)",
        )


def add_index_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Index options")
    group.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="[NAME=]URL",
        help="An index to use, in addition to the default index; earlier ones take priority",
    )
    group.add_argument("--default-index", metavar="URL", help="The default package index")
    group.add_argument(
        "-i", "--index-url", metavar="URL", help="The default package index (same as --default-index)"
    )
    group.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="Extra package indexes, consulted before the default index",
    )
    group.add_argument(
        "-f",
        "--find-links",
        action="append",
        default=[],
        metavar="LOCATION",
        help="Directories or HTML pages of links to search for distributions, "
        "in addition to the indexes",
    )
    group.add_argument(
        "--no-index",
        action="store_true",
        default=None,
        help="Ignore the package indexes; use only --find-links locations",
    )
    group.add_argument(
        "--index-strategy",
        choices=INDEX_STRATEGIES,
        help="How to resolve a package offered by several indexes",
    )
    group.add_argument(
        "--keyring-provider",
        choices=KEYRING_PROVIDERS,
        help="Ask the `keyring` command for index credentials after a 401",
    )


def add_resolver_options(parser: argparse.ArgumentParser, *, resolving: bool = True, upgrade: bool = True) -> None:
    """Which versions and files to use. Without *resolving* (``pip sync``,
    whose file is the lock), only the options that choose files: the
    others are not taken, and read as unset. Without *upgrade* (a command
    with no earlier result to prefer), no ``-U``/``-P``."""
    group = parser.add_argument_group("Resolver options")
    if resolving and upgrade:
        group.add_argument("-U", "--upgrade", action="store_true", default=None, help="Ignore pins in the output file")
        group.add_argument(
            "-P",
            "--upgrade-package",
            action="append",
            type=package_name,
            default=[],
            metavar="PACKAGE",
            help="Ignore the output file's pin for this package",
        )
    elif resolving:
        parser.set_defaults(upgrade=None, upgrade_package=[])
    if resolving:
        group.add_argument("--resolution", choices=RESOLUTION_MODES, help="Which compatible version to prefer")
        group.add_argument("--prerelease", choices=PRERELEASE_MODES, help="When to consider pre-releases")
        group.add_argument("--no-deps", action="store_true", default=None, help="Ignore package dependencies")
    else:
        parser.set_defaults(upgrade=None, upgrade_package=[], resolution=None, prerelease=None, no_deps=None)
    group.add_argument(
        "--exclude-newer",
        metavar="DATE",
        help="Only consider files uploaded before this date (RFC 3339 timestamp or YYYY-MM-DD)",
    )
    group.add_argument(
        "--no-binary",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="Don't use wheels for this package (:all: for every package)",
    )
    group.add_argument(
        "--only-binary",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="Only use wheels for this package (:all: for every package)",
    )
    add_build_options(parser)


def add_python_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Python options")
    group.add_argument("-p", "--python", help="The Python interpreter whose environment to resolve for")
    group.add_argument("--python-version", help="The Python version to resolve for, e.g. 3.11")
    group.add_argument("--python-platform", help="The platform to resolve for, e.g. linux or x86_64-manylinux_2_28")


def add_requirement_sources(parser: argparse.ArgumentParser, *, resolving: bool = True) -> None:
    """Constraints and, when *resolving*, overrides, extras and groups
    (``pip sync`` reads its files only: the others read as unset)."""
    group = parser.add_argument_group("Requirement sources")
    group.add_argument("-c", "--constraints", action="append", default=[], metavar="FILE", help="Constrain versions with these requirement files")
    if not resolving:
        parser.set_defaults(overrides=[], extra=[], all_extras=None, group=[])
        return
    group.add_argument("--override", "--overrides", dest="overrides", action="append", default=[], metavar="FILE", help="Override versions with these requirement files")
    group.add_argument("--extra", action="append", default=[], help="Include this optional dependency group of a pyproject.toml")
    group.add_argument("--all-extras", action="store_true", default=None, help="Include all optional dependencies")
    group.add_argument("--group", action="append", default=[], help="Include this dependency group of a pyproject.toml")


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """How source distributions and local projects are built."""
    group = parser.add_argument_group("Build options")
    group.add_argument(
        "--no-build",
        action="store_true",
        default=None,
        help="Don't build source distributions (the same as --only-binary :all:)",
    )
    group.add_argument(
        "-b",
        "--build-constraints",
        "--build-constraint",
        dest="build_constraints",
        action="append",
        default=[],
        metavar="FILE",
        help="Constrain build dependencies with these requirement files",
    )
    group.add_argument(
        "-C",
        "--config-setting",
        "--config-settings",
        dest="config_settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="A setting passed to the PEP 517 build backend",
    )
    group.add_argument(
        "--config-settings-package",
        "--config-setting-package",
        dest="config_settings_package",
        action="append",
        default=[],
        metavar="PACKAGE:KEY=VALUE",
        help="A setting passed to the PEP 517 build backend of this package only",
    )
    group.add_argument(
        "--no-build-isolation",
        action="store_true",
        default=None,
        help="Build in the target environment, with the build requirements already installed there",
    )
    group.add_argument(
        "--no-build-isolation-package",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="Build this package without isolation",
    )
