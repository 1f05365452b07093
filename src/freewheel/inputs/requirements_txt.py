"""Read pip-style requirements files (``requirements.in``, ``constraints.txt``).

The syntax is pip's: comments start with ``#`` at the beginning of a line or
after whitespace, a trailing ``\\`` joins the next line, ``${VAR}``
(upper-case letters, digits and ``_`` only) is replaced by the environment
variable and left as written when it is unset (as pip and uv do), ``-r``/``-c``
paths are relative to the including file, and option lines set indexes and
binary preferences for the whole run. Nested files are merged into one
:class:`RequirementsFile`; files that include each other in a cycle are an
error, where uv silently reads each once.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import unquote, urlsplit

import msgspec
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from freewheel.errors import InputError
from freewheel.inputs._shared import (
    invalid_requirement_reason,
    is_url,
    location_url,
    with_absolute_url,
)
from freewheel.util.fs import display_path
from freewheel.util.requirements import check_versions

RequirementsKind = Literal["requirements", "constraints", "overrides"]
SourceKind = Literal[
    "requirements", "constraints", "pyproject", "setup.cfg", "setup.py", "stdin", "command line", "overrides"
]

_FLAGS: dict[str, str] = {"requirements": "-r", "constraints": "-c", "overrides": "--override"}


class RequirementSource(msgspec.Struct, frozen=True):
    """Where a requirement was written, for ``# via`` annotations and messages.

    ``path`` is the file as the user wrote it; a file included with ``-r`` is
    shown joined to the including file's directory, as uv shows it
    (``sub/../other.in``). ``project`` is the normalized project name for
    ``pyproject``, ``setup.cfg`` and ``setup.py`` sources, and ``group`` the dependency group
    a requirement came from.
    """

    kind: SourceKind
    path: str | None = None
    line: int | None = None
    project: str | None = None
    group: str | None = None

    def annotation(self) -> str:
        """How a lock file's ``# via`` comment names this source.

        ``-r requirements.in``, ``-c constraints.txt``, ``--override
        overrides.txt``, ``-r -`` for standard input, ``example
        (pyproject.toml)`` or ``example (pyproject.toml:dev)`` for a group.
        """
        if self.kind in ("pyproject", "setup.cfg", "setup.py"):
            where = f"{self.path}:{self.group}" if self.group else self.path
            return f"{self.project} ({where})" if self.project else f"{where}"
        if self.kind == "stdin":
            return "-r -"
        if self.kind == "command line":
            return "command line"
        return f"{_FLAGS[self.kind]} {self.path}"


class SourcedRequirement(msgspec.Struct, frozen=True):
    """One requirement and where it came from.

    ``url`` is the direct reference (an absolute ``file://`` URL for a local
    path), else ``None``. ``requirement`` is ``None`` for a path or URL whose
    project name is only known after reading its metadata; such a requirement
    keeps the extras and marker it was written with in ``extras`` and
    ``marker`` (a named one carries them in ``requirement``). A wheel's name is
    read from its file name, so a wheel is never nameless.
    """

    requirement: Requirement | None
    url: str | None
    editable: bool
    hashes: tuple[str, ...]
    source: RequirementSource
    extras: frozenset[str] = frozenset()
    marker: Marker | None = None
    #: The project at ``url`` stands for its own requirements (with
    #: ``extras``), which only its build backend knows: ``-r pyproject.toml``
    #: or ``-r setup.cfg`` with dynamic dependencies, ``-r setup.py``.
    expand: bool = False

    @property
    def name(self) -> NormalizedName | None:
        """The normalized project name, when known."""
        return None if self.requirement is None else canonicalize_name(self.requirement.name)


class RequirementsFile(msgspec.Struct, frozen=True):
    """Everything read from a requirements file and the files it includes.

    Requirements from ``-c`` includes land in ``constraints``. Of several
    ``--index-url`` options the last wins, as in pip. Local ``-i``/``-f``
    paths are absolute ``file://`` URLs. ``only_binary``/``no_binary`` hold
    the comma-separated entries as written (names, ``:all:``, ``:none:``).
    """

    requirements: tuple[SourcedRequirement, ...] = ()
    constraints: tuple[SourcedRequirement, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()


def read_requirements(
    path: str | Path, *, kind: RequirementsKind = "requirements"
) -> RequirementsFile:
    """Read the requirements file at *path* and every file it includes.

    *kind* says what the file's requirements are: ``"constraints"`` for a
    ``-c`` file and ``"overrides"`` for an overrides file put them in the
    matching place and annotation.
    """
    reader = _Reader()
    reader.read_file(Path(path), display_path(path, Path.cwd()), kind, included_from=None)
    return reader.result()


def parse_requirements(
    text: str,
    *,
    source_path: str | None,
    base_dir: Path,
    kind: RequirementsKind = "requirements",
) -> RequirementsFile:
    """Parse requirements *text*; ``source_path=None`` means standard input.

    Relative paths in *text* are taken relative to *base_dir*.
    """
    reader = _Reader()
    reader.parse(text, source_path, Path(base_dir), kind)
    return reader.result()


# Options taking a value, by every spelling, mapped to their long name.
_VALUE_OPTIONS = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-e": "--editable",
    "--editable": "--editable",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--only-binary": "--only-binary",
    "--no-binary": "--no-binary",
    "--trusted-host": "--trusted-host",
    "--hash": "--hash",
}
_FLAG_OPTIONS = {"--no-index", "--pre", "--prefer-binary"}
_STRONG_HASHES = ("sha256", "sha384", "sha512")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
# ``name @ url`` and ``name[extra] @ url``: PEP 508 even when the URL ends in ``.whl``.
# Possessive quantifiers: a name followed by 100,000 spaces must not make
# the two runs of spaces trade characters (quadratic backtracking).
_NAMED_URL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*+\s*+(?:\[[^\]]*+\]\s*+)?@")
_ARCHIVE_SUFFIXES = (
    ".whl",
    ".zip",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tar",
)


#: A requirements file larger than this is refused, not read without end
#: (``-r /dev/zero``).
MAX_FILE_SIZE = 64 << 20

_BOMS = (
    # UTF-32's little-endian mark starts with UTF-16's: test it first.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_limited(path: Path | BinaryIO, limit: int = MAX_FILE_SIZE) -> bytes | None:
    """At most *limit* bytes of *path* (a path or an open binary file);
    ``None`` when there are more."""
    if isinstance(path, Path):
        with path.open("rb") as stream:
            return read_limited(stream, limit)
    data = path.read(limit + 1)
    return None if len(data) > limit else data


def decode_text(data: bytes, what: str) -> str:
    """Text of a requirements file: by its byte-order mark, as pip reads it
    (a UTF-16 file saved by Windows editors), else UTF-8."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} is not {encoding.upper().removesuffix('-SIG')} text (byte {exc.start} is invalid)."
        ) from None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(first line number, line)`` with continuations joined and comments removed.

    A comment line ends a continuation, as in pip.
    """
    parts: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        comment = line.lstrip().startswith("#")
        if line.endswith("\\") and not comment:
            parts.append(line[:-1])
            continue
        parts.append(" " + line if comment else line)
        yield start, _without_comment("".join(parts)).strip()
        parts = []
    if parts:
        yield start, _without_comment("".join(parts)).strip()


def _without_comment(line: str) -> str:
    """*line* up to a ``#`` that starts it or follows whitespace, as pip reads comments.

    In linear time: pip's pattern, ``(^|\\s+)#.*$``, backtracks over every
    run of spaces, and a line joined from 100,000 continuations took minutes.
    """
    index = line.find("#")
    while index > 0 and not line[index - 1].isspace():
        index = line.find("#", index + 1)
    return line if index < 0 else line[:index]


def _expand_env(line: str) -> str:
    # An unset variable stays as written, as in pip and uv.
    return _ENV_VAR_RE.sub(lambda m: os.environ.get(m.group(1)) or m.group(0), line)


def _split_options(line: str) -> tuple[str, str]:
    """Split a requirement line into the requirement and its trailing options.

    Options start at the first whitespace-separated token beginning with
    ``-``, pip's rule.
    """
    tokens = line.split(" ")
    for position, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:position]).strip(), " ".join(tokens[position:])
    return line, ""


class _Reader:
    """Accumulates what a requirements file and its includes declare."""

    def __init__(self) -> None:
        self.requirements: list[SourcedRequirement] = []
        self.constraints: list[SourcedRequirement] = []
        self.index_url: str | None = None
        self.no_index = False
        self.pre = False
        self.extra_index_urls: list[str] = []
        self.find_links: list[str] = []
        self.only_binary: list[str] = []
        self.no_binary: list[str] = []
        self.trusted_hosts: list[str] = []
        # Files being read, innermost last, to report include cycles.
        self.stack: list[tuple[Path, str]] = []
        self.done: set[tuple[Path, str]] = set()

    def result(self) -> RequirementsFile:
        return RequirementsFile(
            requirements=tuple(self.requirements),
            constraints=tuple(self.constraints),
            index_url=self.index_url,
            extra_index_urls=tuple(self.extra_index_urls),
            find_links=tuple(self.find_links),
            no_index=self.no_index,
            pre=self.pre,
            only_binary=tuple(self.only_binary),
            no_binary=tuple(self.no_binary),
            trusted_hosts=tuple(self.trusted_hosts),
        )

    def read_file(
        self,
        path: Path,
        display: str,
        kind: RequirementsKind,
        included_from: tuple[str, int] | None,
    ) -> None:
        real = path.resolve()
        chain = [shown for _, shown in self.stack]
        if any(real == seen for seen, _ in self.stack):
            cycle = " -> ".join(f"`{shown}`" for shown in [*chain, display])
            raise InputError(f"Requirements files include each other in a cycle: {cycle}.")
        if (real, kind) in self.done:
            return
        try:
            data = read_limited(path)
        except OSError as exc:
            where = (
                f" (included from `{included_from[0]}` at line {included_from[1]})"
                if included_from
                else ""
            )
            reason = (
                "does not exist"
                if isinstance(exc, FileNotFoundError)
                else f"cannot be read: {exc.strerror}"
            )
            raise InputError(f"Requirements file `{display}`{where} {reason}.") from None
        if data is None:
            raise InputError(
                f"Requirements file `{display}` is larger than {MAX_FILE_SIZE >> 20} MiB; "
                "freewheel stops reading it (is it really a requirements file?)."
            )
        text = decode_text(data, f"Requirements file `{display}`")
        self.stack.append((real, display))
        try:
            self.parse(text, display, path.parent, kind)
        finally:
            self.stack.pop()
        self.done.add((real, kind))

    def parse(self, text: str, display: str | None, base_dir: Path, kind: RequirementsKind) -> None:
        shown = display if display is not None else "-"
        for number, line in _logical_lines(text):
            if not line:
                continue
            line = _expand_env(line)
            source = _make_source(kind, display, number)
            if line.startswith("-"):
                self._option_line(line, shown, number, base_dir, kind, source)
            else:
                spec, options = _split_options(line)
                entry = _parse_requirement(
                    spec, editable=False, base_dir=base_dir, source=source, shown=shown
                )
                hashes = self._hashes(_tokens(options, shown, number), shown, number)
                self._add(msgspec.structs.replace(entry, hashes=hashes), kind)

    def _add(self, entry: SourcedRequirement, kind: RequirementsKind) -> None:
        (self.constraints if kind == "constraints" else self.requirements).append(entry)

    def _hashes(self, tokens: list[tuple[str, str]], shown: str, number: int) -> tuple[str, ...]:
        hashes = []
        for option, value in tokens:
            if option != "--hash":
                raise InputError(
                    f"Option `{option}` in `{shown}` at line {number} cannot follow a requirement; "
                    "only `--hash` can."
                )
            hashes.append(_check_hash(value, shown, number))
        return tuple(hashes)

    def _option_line(
        self,
        line: str,
        shown: str,
        number: int,
        base_dir: Path,
        kind: RequirementsKind,
        source: RequirementSource,
    ) -> None:
        tokens = _tokens(line, shown, number)
        for position, (option, value) in enumerate(tokens):
            if option == "--hash":
                raise InputError(
                    f"`--hash` in `{shown}` at line {number} must follow a requirement "
                    "on the same line."
                )
            if option == "--editable":
                entry = _parse_requirement(
                    value, editable=True, base_dir=base_dir, source=source, shown=shown
                )
                hashes = self._hashes(tokens[position + 1 :], shown, number)
                self._add(msgspec.structs.replace(entry, hashes=hashes), kind)
                return
            if option in ("--requirement", "--constraint"):
                nested: RequirementsKind = (
                    "constraints" if option == "--constraint" or kind == "constraints" else kind
                )
                self._include(value, shown, number, base_dir, nested)
            else:
                self._setting(option, value, base_dir)

    def _include(
        self, target: str, shown: str, number: int, base_dir: Path, kind: RequirementsKind
    ) -> None:
        if is_url(target):
            raise InputError(
                f"`{shown}` includes `{target}` at line {number}, but including requirements "
                "from a URL is not supported yet.",
                hint="Download the file and include it by path.",
            )
        target_path = Path(target).expanduser()
        display = display_path(
            target_path
            if target_path.is_absolute() or shown == "-"
            else os.path.join(os.path.dirname(shown), target),
            Path.cwd(),
        )
        self.read_file(base_dir / target_path, display, kind, included_from=(shown, number))

    def _setting(self, option: str, value: str, base_dir: Path) -> None:
        if option == "--index-url":
            self.index_url = location_url(value, base_dir)
        elif option == "--extra-index-url":
            self.extra_index_urls.append(location_url(value, base_dir))
        elif option == "--find-links":
            self.find_links.append(location_url(value, base_dir))
        elif option == "--only-binary":
            self.only_binary.extend(_comma_list(value))
        elif option == "--no-binary":
            self.no_binary.extend(_comma_list(value))
        elif option == "--trusted-host":
            self.trusted_hosts.append(value)
        elif option == "--no-index":
            self.no_index = True
        elif option == "--pre":
            self.pre = True
        # --prefer-binary is accepted for compatibility and changes nothing.


def _comma_list(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def _make_source(kind: RequirementsKind, display: str | None, number: int) -> RequirementSource:
    if display is None:
        if kind == "requirements":
            return RequirementSource("stdin", None, number)
        return RequirementSource(kind, "-", number)
    return RequirementSource(kind, display, number)


def _tokens(text: str, shown: str, number: int) -> list[tuple[str, str]]:
    """Split an options string into ``(long option, value)`` pairs; flags have ``""``.

    Accepts ``-r FILE``, ``-rFILE``, ``--requirement FILE`` and
    ``--requirement=FILE``.
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InputError(
            f"Couldn't parse the options in `{shown}` at line {number}: {exc}."
        ) from None
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if not word.startswith("-"):
            raise InputError(
                f"Unexpected `{word}` in `{shown}` at line {number}: expected an option."
            )
        spelling, equals, inline = (
            word.partition("=") if word.startswith("--") else (word[:2], "", word[2:])
        )
        if word in _FLAG_OPTIONS:
            pairs.append((word, ""))
            continue
        if spelling not in _VALUE_OPTIONS:
            raise InputError(f"Unknown option `{word}` in `{shown}` at line {number}.")
        if not equals and not inline and position < len(words):
            inline = words[position]
            position += 1
        if not inline:
            raise InputError(f"Option `{spelling}` in `{shown}` at line {number} needs a value.")
        pairs.append((_VALUE_OPTIONS[spelling], inline))
    return pairs


def _check_hash(value: str, shown: str, number: int) -> str:
    algorithm, _, digest = value.partition(":")
    if algorithm not in _STRONG_HASHES or not re.fullmatch(r"[0-9a-fA-F]+", digest):
        raise InputError(
            f"Invalid `--hash={value}` in `{shown}` at line {number}: expected "
            "`algorithm:hexdigest` with algorithm sha256, sha384 or sha512."
        )
    return value


def _parse_requirement(
    text: str, *, editable: bool, base_dir: Path, source: RequirementSource, shown: str
) -> SourcedRequirement:
    """Parse a requirement: PEP 508, or a bare path or URL with optional extras and marker."""

    def fail(reason: str) -> InputError:
        return InputError(
            f"Couldn't parse requirement in `{shown}` at line {source.line}: `{text}`: {reason}"
        )

    location, marker_text = _split_marker(text)
    bare, extras_text = _split_extras(location)
    looks_like_location = _NAMED_URL_RE.match(text) is None and (
        is_url(bare)
        or bare.startswith((".", "/", "~", "\\"))
        or bare.lower().endswith(_ARCHIVE_SUFFIXES)
    )
    if not looks_like_location:
        try:
            req = Requirement(text)
            check_versions(req)
        except InvalidRequirement as exc:
            if "/" in bare or os.sep in bare:
                looks_like_location = True
            else:
                raise fail(invalid_requirement_reason(exc)) from None
        else:
            if editable:
                raise fail("an editable requirement must be a local path or a URL")
            req = with_absolute_url(req, base_dir)
            return SourcedRequirement(req, req.url, False, (), source)

    try:
        marker = Marker(marker_text) if marker_text else None
    except InvalidMarker as exc:
        raise fail(str(exc).splitlines()[0]) from None
    extras = (
        frozenset(e.strip() for e in extras_text.split(",") if e.strip())
        if extras_text is not None
        else frozenset()
    )
    url = location_url(bare, base_dir)
    name = _wheel_name(url)
    if name is None:
        return SourcedRequirement(None, url, editable, (), source, extras, marker)
    spelled = f"{name}[{','.join(sorted(extras))}]" if extras else name
    req = Requirement(f"{spelled} @ {url}" + (f" ; {marker}" if marker else ""))
    return SourcedRequirement(req, url, editable, (), source)


def _split_extras(location: str) -> tuple[str, str | None]:
    """Split ``location[extra,...]`` into the location and the extras' text.

    The extras are the last bracketed part, which holds no ``]``; found by
    searching, not by a pattern that backtracks over every ``[``.
    """
    if not location.endswith("]"):
        return location, None
    end = len(location) - 1
    start = location.find("[", location.rfind("]", 0, end) + 1, end)
    if start <= 0:
        return location, None
    return location[:start], location[start + 1 : end]


def _split_marker(text: str) -> tuple[str, str | None]:
    """Split ``location ; marker``: a URL needs whitespace around ``;``, as in pip."""
    for separator in ("; ", " ;"):
        if separator in text:
            location, _, marker = text.partition(separator)
            return location.strip(), marker.strip()
    if not is_url(text) and ";" in text:
        location, _, marker = text.partition(";")
        return location.strip(), marker.strip()
    return text.strip(), None


def _wheel_name(url: str) -> str | None:
    try:
        path = urlsplit(url).path
    except ValueError:  # not a URL any parser reads: no wheel named in it
        return None
    filename = unquote(path.rsplit("/", 1)[-1])
    if not filename.endswith(".whl"):
        return None
    try:
        return parse_wheel_filename(filename)[0]
    except InvalidWheelFilename:
        return None
