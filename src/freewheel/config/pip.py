"""Read pip's configuration the way pip reads it.

Users who set up indexes for pip expect every pip-compatible tool to follow
them. pip merges, lowest priority first: the global files, the user files
(the legacy ``~/.pip/pip.conf`` before the XDG one), the site file
(``$VIRTUAL_ENV/pip.conf``) and the file named by ``PIP_CONFIG_FILE``. Setting
``PIP_CONFIG_FILE`` to an existing file skips the user files, and setting it
to :data:`os.devnull` skips every file. Within the merged files the command's
section (``[install]``) overrides ``[global]`` key by key, and ``PIP_*``
environment variables override both. Empty values are ignored.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import msgspec
import platformdirs

from freewheel.errors import UsageError


class PipSetting(msgspec.Struct, frozen=True):
    """A configured value and where it was set, for messages.

    ``origin`` is ``pip config <file> [<section>] <key>`` or the name of the
    environment variable.
    """

    value: object
    origin: str


class PipConfig(msgspec.Struct, frozen=True):
    """The pip settings that change where and what freewheel may install.

    ``None`` means pip's configuration does not set the option. List values
    are tuples of strings; ``no_index`` and ``pre`` are booleans;
    ``only_binary``/``no_binary`` hold their comma-separated entries.
    """

    index_url: PipSetting | None = None
    extra_index_urls: PipSetting | None = None
    find_links: PipSetting | None = None
    no_index: PipSetting | None = None
    constraints: PipSetting | None = None
    pre: PipSetting | None = None
    only_binary: PipSetting | None = None
    no_binary: PipSetting | None = None
    trusted_hosts: PipSetting | None = None
    cert: PipSetting | None = None


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.split())


def _commas(value: str) -> tuple[str, ...]:
    return tuple(entry.strip() for entry in value.split(",") if entry.strip())


_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0")


def _boolean(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(value)


# pip's option name -> (PipConfig field, how pip converts the text).
_OPTIONS: dict[str, tuple[str, Callable[[str], object]]] = {
    "index-url": ("index_url", str),
    "extra-index-url": ("extra_index_urls", _words),
    "find-links": ("find_links", _words),
    "no-index": ("no_index", _boolean),
    "constraint": ("constraints", _words),
    "pre": ("pre", _boolean),
    "only-binary": ("only_binary", _commas),
    "no-binary": ("no_binary", _commas),
    "trusted-host": ("trusted_hosts", _words),
    "cert": ("cert", str),
}


def load_pip_config(
    *,
    section: str = "install",
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> PipConfig:
    """Return pip's settings for the command *section* (``install``, ``download`` ...).

    *environ* defaults to :data:`os.environ` and *home* to the user's home
    directory; both exist so that callers and tests can read a configuration
    other than the running user's.
    """
    environ = os.environ if environ is None else environ
    home = Path(environ.get("HOME") or Path.home()) if home is None else home
    # (section, option) -> (text, origin); later files override earlier ones.
    merged: dict[tuple[str, str], tuple[str, str]] = {}
    for path in config_files(environ, home):
        for (file_section, option), (text, key) in _read_file(path).items():
            merged[file_section, option] = (text, f"pip config {path} [{file_section}] {key}")

    # An empty value overrides within the files but is then ignored, as in pip.
    found: dict[str, tuple[str, str]] = {}
    for wanted in ("global", section):
        for (file_section, option), (text, origin) in merged.items():
            if file_section == wanted and text:
                found[option] = (text, origin)
    for variable, text in environ.items():
        if variable.startswith("PIP_") and text:
            found[_normalize(variable[4:])] = (text, variable)

    settings: dict[str, PipSetting] = {}
    for option, (text, origin) in found.items():
        if option not in _OPTIONS:
            continue
        field, convert = _OPTIONS[option]
        try:
            settings[field] = PipSetting(convert(text), origin)
        except ValueError:
            raise UsageError(
                f"{origin} is set to `{text}`, which is not a boolean value; pip accepts "
                "yes/no, true/false, on/off or 1/0."
            ) from None
    return PipConfig(**settings)


# The system-wide file pip reads last among the global ones on Unix.
SYSTEM_CONFIG_FILE = Path("/etc/pip.conf")


def config_files(
    environ: Mapping[str, str], home: Path, platform: str = sys.platform
) -> list[Path]:
    """The pip configuration files that exist, lowest priority first.

    *environ* and *home* are as for :func:`load_pip_config`; *platform* is a
    :data:`sys.platform` value.
    """
    override = environ.get("PIP_CONFIG_FILE")
    if override == os.devnull:
        return []
    candidates = _global_files(environ, platform)
    if not (override and os.path.exists(override)):
        candidates += _user_files(environ, home, platform)
    virtual_env = environ.get("VIRTUAL_ENV")
    if virtual_env:
        candidates.append(Path(virtual_env) / _basename(platform))
    if override:
        candidates.append(Path(override))
    return [path for path in candidates if path.is_file()]


def _basename(platform: str) -> str:
    return "pip.ini" if platform == "win32" else "pip.conf"


def _global_files(environ: Mapping[str, str], platform: str) -> list[Path]:
    if platform == "darwin":
        return [Path("/Library/Application Support/pip/pip.conf")]
    if platform == "win32":
        return [Path(environ.get("PROGRAMDATA", r"C:\ProgramData")) / "pip" / "pip.ini"]
    dirs = (environ.get("XDG_CONFIG_DIRS") or "").strip() or "/etc/xdg"
    return [Path(d) / "pip" / "pip.conf" for d in dirs.split(os.pathsep)] + [SYSTEM_CONFIG_FILE]


def _user_files(environ: Mapping[str, str], home: Path, platform: str) -> list[Path]:
    if platform == "win32":
        appdata = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
        return [home / "pip" / "pip.ini", appdata / "pip" / "pip.ini"]
    legacy = home / ".pip" / "pip.conf"
    if platform == "darwin" and (home / "Library" / "Application Support" / "pip").is_dir():
        return [legacy, home / "Library" / "Application Support" / "pip" / "pip.conf"]
    config_home = (environ.get("XDG_CONFIG_HOME") or "").strip() or str(home / ".config")
    return [legacy, Path(config_home) / "pip" / "pip.conf"]


def _normalize(option: str) -> str:
    """pip's option-name normalization: ``INDEX_URL``, ``--index-url`` -> ``index-url``."""
    option = option.lower().replace("_", "-")
    return option[2:] if option.startswith("--") else option


def _read_file(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """Map ``(section, normalized option)`` to ``(value, option as written)`` for *path*."""
    import configparser  # only where a file is read: most runs name none

    parser = configparser.RawConfigParser()
    # Keep the option names as written, for origins.
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise UsageError(
            f"pip's configuration file `{path}` could not be read: {str(exc).splitlines()[0]}",
            hint="Fix or remove the file, or set PIP_CONFIG_FILE=/dev/null to ignore pip's "
            "configuration.",
        ) from None
    return {
        (section, _normalize(key)): (value, key)
        for section in parser.sections()
        for key, value in parser.items(section)
    }


@functools.cache
def pip_default_index_url() -> str:
    """The index pip uses when none is configured, as the user's pip defines it.

    Read from pip's own help text for ``--index-url`` ("(default URL)"):
    pip's command line is its public interface, its modules are not. The
    pip asked is this Python's, else that of ``python3``/``python`` on
    ``PATH``. Asking takes about a second, so the answer is remembered per
    interpreter and pip version in the user's cache directory. The URL is
    never written into freewheel, so that it always matches the user's pip.
    """
    for python, pip_version in _pythons_with_pip():
        memo = _memo_path(python, pip_version)
        try:
            remembered = memo.read_text(encoding="utf-8").strip()
        except OSError:
            remembered = ""
        if remembered:
            return remembered
        url = _ask_pip(python)
        if url is not None:
            try:
                memo.parent.mkdir(parents=True, exist_ok=True)
                memo.write_text(url + "\n", encoding="utf-8")
            except OSError:
                pass
            return url
    raise UsageError(
        "No default index is configured and pip, which defines the usual default, could not "
        "be found in this Python or on PATH.",
        hint="Pass `--default-index URL` (or `--index-url URL`) to name the index to use.",
    )


_HELP_DEFAULT = re.compile(r"--index-url\b.*?\(default\s+(\S+?)\)", re.S)


_VERSION_LINE = re.compile(rb"""^__version__\s*=\s*["']([^"']+)["']""", re.M)


def _pythons_with_pip() -> Iterator[tuple[str, str]]:
    """The Pythons whose pip may be asked, each with its pip's version when
    known (this Python's; ``""`` for those on ``PATH``)."""
    spec = importlib.util.find_spec("pip")
    if spec is not None:
        yield sys.executable, _pip_version(spec.origin)
    for name in ("python3", "python"):
        executable = shutil.which(name)
        if executable is not None:
            yield executable, ""


def _pip_version(init: str | None) -> str:
    """The version pip's ``__init__.py`` at *init* declares, else a digest of
    the file: what changes when pip is upgraded.

    Read from the file rather than with ``importlib.metadata``, whose import
    (and the email parser's) cost every command 10 ms.
    """
    try:
        content = Path(init).read_bytes() if init else b""
    except OSError:
        return ""
    found = _VERSION_LINE.search(content)
    return found[1].decode("ascii", "replace") if found else hashlib.sha256(content).hexdigest()


def _memo_path(python: str, pip_version: str) -> Path:
    """Where the answer of *python*'s pip (of *pip_version*) is remembered."""
    key = hashlib.sha256(f"{os.path.realpath(python)}\0{pip_version}".encode()).hexdigest()[:16]
    root = os.environ.get("FREEWHEEL_CACHE_DIR") or platformdirs.user_cache_dir("freewheel", appauthor=False)
    return Path(root) / "pip-default-index" / key


def _ask_pip(python: str) -> str | None:
    try:
        completed = subprocess.run(
            [python, "-m", "pip", "install", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _HELP_DEFAULT.search(completed.stdout) if completed.returncode == 0 else None
    return match[1] if match else None
