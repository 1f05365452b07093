"""Per-index settings of ``[[tool.uv.index]]`` as ``pip compile`` applies them:
``cache-control`` overrides and ``ignore-error-codes`` kept when an index is
given again on the command line."""

from __future__ import annotations

import pytest
from support.builders import make_wheel

from freewheel.cache.http import cache_overrides
from freewheel.cli import run
from freewheel.config.indexes import Index

PYPROJECT = """\
[project]
name = "demo"
version = "0"
dependencies = ["lib"]
[[tool.uv.index]]
name = "main"
url = "{url}"
default = true
{settings}
"""


@pytest.fixture
def work(tmp_path, monkeypatch):
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


@pytest.mark.parametrize(
    ("settings", "page_requests"),
    [("", 2), ('cache-control = { api = "max-age=600" }', 1)],
    ids=["server-says-no-cache", "api-override"],
)
def test_an_api_cache_control_override_spares_the_second_request_for_a_page(
    work, tmp_path, index_server, capsys, settings, page_requests
):
    make_wheel(tmp_path / "dists", "lib", "1.0")
    server = index_server(tmp_path / "dists", page_headers={"Cache-Control": "no-cache"})
    (work / "pyproject.toml").write_text(PYPROJECT.format(url=server.url, settings=settings))
    for _ in range(2):
        assert run(["pip", "compile", "pyproject.toml", "--no-header", "--no-annotate"]) == 0
        assert capsys.readouterr().out == "lib==1.0\n"
    assert server.paths().count("/simple/lib/") == page_requests


def test_an_index_repeated_on_the_command_line_keeps_its_ignored_error_codes(
    work, tmp_path, index_server, capsys
):
    make_wheel(tmp_path / "private", "other", "1.0")
    make_wheel(tmp_path / "main", "lib", "1.0")
    private = index_server(tmp_path / "private", status={"lib": 403})
    main = index_server(tmp_path / "main")
    (work / "pyproject.toml").write_text(
        PYPROJECT.format(url=main.url, settings="")
        + f'[[tool.uv.index]]\nname = "private"\nurl = "{private.url}"\n'
        + "ignore-error-codes = [403]\n"
    )
    code = run(["pip", "compile", "pyproject.toml", "--no-header", "--index", private.url, "-v"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "lib==1.0"
    assert "HTTP 403, ignored by configuration" in err


def test_cache_overrides_cover_the_urls_under_each_index():
    indexes = [
        Index("https://a.example/simple", cache_control_api="max-age=600"),
        Index("https://b.example/wheels/", format="flat", cache_control_files="no-store"),
        Index("https://c.example/simple/"),
    ]
    assert cache_overrides(indexes) == [
        ("https://a.example/simple/", "api", "max-age=600"),
        ("https://b.example/wheels/", "files", "no-store"),
    ]
