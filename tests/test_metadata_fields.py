"""The resolver's own reading of core metadata headers agrees with packaging's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.metadata import parse_email

from freewheel.dists.metadata import essential_metadata, header_fields

_REQUIREMENTS = st.sampled_from(
    [
        "requests>=2",
        "urllib3<1.27,>=1.25.4; python_version < '3.10'",
        'pkg[extra1,extra2]>=1.0; extra == "test"',
        "jmespath<2.0.0,>=0.7.1",
        "name @ https://example.org/x.whl",
    ]
)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)


@st.composite
def metadata_files(draw: st.DrawFn) -> bytes:
    lines = ["Metadata-Version: 2.1", "Name: Some_Project", f"Version: {draw(st.sampled_from(['1.0', '2.0.post1']))}"]
    for requirement in draw(st.lists(_REQUIREMENTS, max_size=4)):
        lines.append(f"Requires-Dist: {requirement}")
    if draw(st.booleans()):
        lines.append("Requires-Python: >=3.8")
    for extra in draw(st.lists(st.sampled_from(["test", "docs", "all"]), max_size=2, unique=True)):
        lines.append(f"Provides-Extra: {extra}")
    if draw(st.booleans()):
        # A folded field the resolver does not read, and a described body.
        lines += ["Description: first line\n        second: line\n        |", "Summary: " + draw(_TEXT).strip()]
    if draw(st.booleans()):
        # A folded licence text whose blank lines keep their indentation:
        # they continue the field, they do not end the header.
        indent = draw(st.sampled_from(["        ", " ", "\t"]))
        lines.append(f"License: Copyright\n{indent}All rights reserved.\n{indent}\n{indent}1. Redistributions")
    draw(st.randoms()).shuffle(lines)
    body = draw(_TEXT)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [line.replace("\n", newline) for line in lines]
    text = newline.join(lines) + newline + newline + body + newline + "Requires-Dist: not-a-header"
    return text.encode("utf-8")


@settings(max_examples=300)
@given(metadata_files())
def test_header_fields_agree_with_parse_email(data: bytes) -> None:
    raw, _ = parse_email(data)
    fields = header_fields(data)
    assert fields["name"] == [raw["name"]]
    assert fields["version"] == [raw["version"]]
    assert fields.get("requires-dist", []) == raw.get("requires_dist", [])
    assert fields.get("requires-python", [None])[0] == raw.get("requires_python")
    assert fields.get("provides-extra", []) == raw.get("provides_extra", [])


@settings(max_examples=300)
@given(metadata_files())
def test_the_cached_essentials_read_as_the_whole_file(data: bytes) -> None:
    essentials = essential_metadata(header_fields(data))
    assert header_fields(essentials) == header_fields(data)
    for unread in (b"Summary", b"License", b"Description", b"Metadata-Version", b"not-a-header"):
        assert unread not in essentials
