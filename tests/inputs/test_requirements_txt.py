from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.markers import Marker

from freewheel.errors import InputError
from freewheel.inputs.requirements_txt import (
    RequirementSource,
    parse_requirements,
    read_requirements,
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def strings(entries) -> list[str]:
    return [str(entry.requirement) for entry in entries]


def test_requirement_lines_comments_continuations_and_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "requirements.in",
        """\
        # a comment line
        alpha>=1.0  # trailing comment

        beta[fast,small] \\
            ==2.0 ; python_version >= "3.8" \\
        # a comment ends a continuation
        gamma
        """,
    )
    result = read_requirements(path)
    assert strings(result.requirements) == [
        "alpha>=1.0",
        'beta[fast,small]==2.0; python_version >= "3.8"',
        "gamma",
    ]
    assert [entry.source.line for entry in result.requirements] == [2, 4, 7]
    assert result.requirements[0].source.annotation() == f"-r {path}"


def test_comment_hash_must_follow_whitespace(tmp_path: Path) -> None:
    # "gamma#x" is not a comment for pip; it is then an invalid requirement.
    path = write(tmp_path, "r.in", "gamma#x\n")
    with pytest.raises(InputError, match=r"`gamma#x`"):
        read_requirements(path)


def test_env_vars_expand_in_braces_only_and_unset_ones_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_VERSION", "1.5")
    monkeypatch.setenv("lower_case", "9")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = write(
        tmp_path,
        "r.in",
        """\
        alpha==${ALPHA_VERSION}
        beta @ https://files.example/${NOT_SET_ANYWHERE}/beta-1.0-py3-none-any.whl
        """,
    )
    result = read_requirements(path)
    assert str(result.requirements[0].requirement) == "alpha==1.5"
    assert result.requirements[1].url == (
        "https://files.example/${NOT_SET_ANYWHERE}/beta-1.0-py3-none-any.whl"
    )
    for unexpanded in ("gamma==${lower_case}", "gamma==$ALPHA_VERSION"):
        with pytest.raises(InputError, match="Couldn't parse requirement"):
            parse_requirements(unexpanded, source_path="r.in", base_dir=tmp_path)


def test_hashes_are_recorded_in_both_spellings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.txt",
        """\
        alpha==1.0 \\
            --hash=sha256:aa11 \\
            --hash sha512:BB22
        beta==2.0
        """,
    )
    result = read_requirements(path)
    assert result.requirements[0].hashes == ("sha256:aa11", "sha512:BB22")
    assert result.requirements[1].hashes == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "alpha==1.0 --hash=md5:aa",
            "Invalid `--hash=md5:aa` in `r.txt` at line 1: expected `algorithm:hexdigest` "
            "with algorithm sha256, sha384 or sha512.",
        ),
        (
            "--hash=sha256:aa",
            "`--hash` in `r.txt` at line 1 must follow a requirement on the same line.",
        ),
        (
            "alpha==1.0 --pre",
            "Option `--pre` in `r.txt` at line 1 cannot follow a requirement; only `--hash` can.",
        ),
    ],
)
def test_hash_mistakes(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_requirements(text, source_path="r.txt", base_dir=tmp_path)
    assert info.value.message == message


def test_direct_references_resolve_against_the_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "project"
    write(
        project,
        "requirements.in",
        """\
        named @ ./vendor/named
        ./local/pkg[one,two] ; sys_platform == "linux"
        vendor/other
        ../wheels/Some_Thing-1.2-py3-none-any.whl
        https://files.example/dl/remote-3.0-py3-none-any.whl#sha256=00ff
        file:///srv/sdists/thing-1.0.tar.gz
        -e ./editable-here
        --editable=https://files.example/repo.zip
        """,
    )
    result = read_requirements("project/requirements.in")
    entries = result.requirements
    base = project.as_uri()

    assert str(entries[0].requirement) == f"named @ {base}/vendor/named"
    assert entries[0].url == f"{base}/vendor/named"

    assert entries[1].requirement is None and entries[1].name is None
    assert entries[1].url == f"{base}/local/pkg"
    assert entries[1].extras == {"one", "two"}
    assert entries[1].marker == Marker('sys_platform == "linux"')

    assert entries[2].requirement is None
    assert entries[2].url == f"{base}/vendor/other"

    # A wheel's file name says what it is.
    assert entries[3].name == "some-thing"
    assert entries[3].url == f"{tmp_path.as_uri()}/wheels/Some_Thing-1.2-py3-none-any.whl"
    assert entries[4].name == "remote"
    assert entries[4].url == "https://files.example/dl/remote-3.0-py3-none-any.whl#sha256=00ff"

    assert entries[5].requirement is None
    assert entries[5].url == "file:///srv/sdists/thing-1.0.tar.gz"

    assert [entry.editable for entry in entries] == [False] * 6 + [True, True]
    assert entries[6].url == f"{base}/editable-here"
    assert entries[7].url == "https://files.example/repo.zip"


def test_editable_needs_a_path_or_url(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_requirements("-e alpha==1.0", source_path="r.in", base_dir=tmp_path)
    assert info.value.message == (
        "Couldn't parse requirement in `r.in` at line 1: `alpha==1.0`: "
        "an editable requirement must be a local path or a URL"
    )


def test_bad_requirement_message_names_file_line_and_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements.in", "alpha\nbeta\nfoo>==1\n")
    with pytest.raises(InputError) as info:
        read_requirements(path)
    message = info.value.message
    assert message.startswith(f"Couldn't parse requirement in `{path}` at line 3: `foo>==1`: ")
    assert "\n" not in message
    assert "Expected" in message


def test_nested_includes_merge_with_uv_style_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "requirements.in",
        "alpha\n-r sub/nested.in\n-c cons.txt\n--constraint sub/more.txt\n",
    )
    write(tmp_path, "sub/nested.in", "gamma\n--requirement ../other.in\n")
    write(tmp_path, "other.in", "delta\n")
    write(tmp_path, "cons.txt", "beta==1.0\n-r from-constraints.txt\n")
    write(tmp_path, "from-constraints.txt", "epsilon<2\n")
    write(tmp_path, "sub/more.txt", "zeta!=3\n")

    result = read_requirements("requirements.in")
    assert [(str(e.requirement), e.source.annotation()) for e in result.requirements] == [
        ("alpha", "-r requirements.in"),
        ("gamma", "-r sub/nested.in"),
        ("delta", "-r sub/../other.in"),
    ]
    # A file included from a constraints file holds constraints too.
    assert [(str(e.requirement), e.source.annotation()) for e in result.constraints] == [
        ("beta==1.0", "-c cons.txt"),
        ("epsilon<2", "-c from-constraints.txt"),
        ("zeta!=3", "-c sub/more.txt"),
    ]


def test_overrides_and_constraints_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, "overrides.txt", "alpha==2\n")
    overrides = read_requirements(path, kind="overrides")
    assert overrides.requirements[0].source.annotation() == f"--override {path}"
    constraints = read_requirements(path, kind="constraints")
    assert constraints.requirements == ()
    assert constraints.constraints[0].source.annotation() == f"-c {path}"


def test_stdin(tmp_path: Path) -> None:
    write(tmp_path, "more.in", "beta\n")
    result = parse_requirements("alpha\n-r more.in\n", source_path=None, base_dir=tmp_path)
    assert [e.source.annotation() for e in result.requirements] == ["-r -", "-r more.in"]


def test_include_cycle_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.in", "-r b.in\nalpha\n")
    write(tmp_path, "b.in", "-r a.in\n")
    with pytest.raises(InputError) as info:
        read_requirements("a.in")
    assert info.value.message == (
        "Requirements files include each other in a cycle: `a.in` -> `b.in` -> `a.in`."
    )


def test_same_file_included_twice_is_read_once(tmp_path: Path) -> None:
    write(tmp_path, "common.in", "alpha\n")
    path = write(tmp_path, "r.in", "-r common.in\n-r common.in\n")
    assert strings(read_requirements(path).requirements) == ["alpha"]


def test_missing_include_and_url_include(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "r.in", "alpha\n-r missing.in\n")
    with pytest.raises(InputError) as info:
        read_requirements("r.in")
    assert info.value.message == (
        "Requirements file `missing.in` (included from `r.in` at line 2) does not exist."
    )
    write(tmp_path, "u.in", "-r https://files.example/r.txt\n")
    with pytest.raises(InputError, match="including requirements from a URL is not supported yet"):
        read_requirements("u.in")
    with pytest.raises(InputError, match=r"Requirements file `nope\.in` does not exist\."):
        read_requirements("nope.in")


def test_option_lines(tmp_path: Path) -> None:
    write(tmp_path, "nested.txt", "--extra-index-url https://two.example/simple\n-f ./more-links\n")
    path = write(
        tmp_path,
        "r.txt",
        """\
        -i https://first.example/simple
        --index-url=https://one.example/simple
        --extra-index-url=https://extra.example/simple
        -f ./links
        --find-links https://links.example/page.html
        --no-index --pre
        --only-binary :all:
        --no-binary=alpha,beta
        --prefer-binary
        --trusted-host one.example
        -r nested.txt
        """,
    )
    result = read_requirements(path)
    assert result.index_url == "https://one.example/simple"
    assert result.extra_index_urls == ("https://extra.example/simple", "https://two.example/simple")
    assert result.find_links == (
        (tmp_path / "links").as_uri(),
        "https://links.example/page.html",
        (tmp_path / "more-links").as_uri(),
    )
    assert result.no_index and result.pre
    assert result.only_binary == (":all:",)
    assert result.no_binary == ("alpha", "beta")
    assert result.trusted_hosts == ("one.example",)
    assert result.requirements == ()


def test_defaults_without_options(tmp_path: Path) -> None:
    result = parse_requirements("alpha\n", source_path="r.in", base_dir=tmp_path)
    assert (result.index_url, result.extra_index_urls, result.find_links) == (None, (), ())
    assert not result.no_index and not result.pre


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "--use-feature=fast-deps",
            "Unknown option `--use-feature=fast-deps` in `r.in` at line 2.",
        ),
        ("-x foo", "Unknown option `-x` in `r.in` at line 2."),
        ("--index-url", "Option `--index-url` in `r.in` at line 2 needs a value."),
        ("--find-links=", "Option `--find-links` in `r.in` at line 2 needs a value."),
        ("--pre alpha", "Unexpected `alpha` in `r.in` at line 2: expected an option."),
    ],
)
def test_bad_option_lines(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_requirements(f"alpha\n{text}\n", source_path="r.in", base_dir=tmp_path)
    assert info.value.message == message


def test_source_annotations() -> None:
    assert RequirementSource("pyproject", "pyproject.toml", project="example").annotation() == (
        "example (pyproject.toml)"
    )
    assert (
        RequirementSource(
            "pyproject", "pyproject.toml", project="example", group="dev"
        ).annotation()
        == "example (pyproject.toml:dev)"
    )
    assert RequirementSource("setup.cfg", "setup.cfg", project="example").annotation() == (
        "example (setup.cfg)"
    )


@pytest.mark.timeout(60)
def test_a_hundred_thousand_continuations_are_read_in_linear_time(tmp_path: Path) -> None:
    """Joining continuation lines and finding comments is linear: this file
    took minutes when comments were found with pip's backtracking pattern."""
    path = tmp_path / "long.in"
    path.write_text("alpha" + " \\\n" * 200_000 + " >=1.0  # the end\n" + "beta\t\t# tab\n")
    assert strings(read_requirements(path).requirements) == ["alpha>=1.0", "beta"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_file_is_decoded_by_its_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    """Windows editors save UTF-16 with a mark; pip reads it, and so does freewheel."""
    path = tmp_path / "r.in"
    text = "alpha>=1.0\nbeta  # bêta\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    assert strings(read_requirements(path).requirements) == ["alpha>=1.0", "beta"]


def test_an_endless_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"larger than 64 MiB"):
        read_requirements(Path("/dev/zero"))
