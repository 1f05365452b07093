"""The hand-written TOML values read back with tomllib to what was written."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freewheel.lock import tomlwriter

scalars = st.one_of(
    st.text(),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)),
    max_leaves=12,
)


@given(st.text(), values)
def test_every_value_and_key_reads_back(key, value):
    assert tomllib.loads(tomlwriter.assignment(key, value)) == {key: value}


@given(st.text(), st.lists(values, max_size=4))
def test_an_array_one_element_per_line_reads_back(key, items):
    lines = tomlwriter.array_lines(key, items)
    assert len(lines) == len(items) + 2
    assert tomllib.loads("\n".join(lines)) == {key: items}


def test_strings_escape_what_toml_requires():
    assert tomlwriter.string('a"b\\c\nd\te\x7f\x00') == '"a\\"b\\\\c\\nd\\te\\u007f\\u0000"'


def test_keys_are_bare_when_they_can_be():
    assert tomlwriter.key("upload-time") == "upload-time"
    assert tomlwriter.key("a.b") == '"a.b"'
    assert tomlwriter.key("") == '""'


def test_date_times_are_written_in_utc():
    moment = datetime(2024, 5, 6, 9, 8, 7, 123, tzinfo=timezone(timedelta(hours=2)))
    assert tomlwriter.value(moment) == "2024-05-06T07:08:07.000123Z"
    assert tomllib.loads(f"t = {tomlwriter.value(moment)}")["t"] == moment


def test_other_types_are_refused():
    with pytest.raises(TypeError, match="no TOML literal for float"):
        tomlwriter.value(1.5)
