"""IndexClient against real local indexes: strategies, failures, pins, flat locations."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import msgspec
import pytest
from support.builders import make_sdist, make_wheel
from support.server import write_file_index

from freewheel.config.indexes import Index
from freewheel.errors import IndexAccessError, UsageError
from freewheel.index import IndexClient
from freewheel.net import Fetcher


def lookup(indexes, name, **options):
    async def run():
        async with Fetcher(timeout=5) as fetcher:
            return await IndexClient(fetcher, indexes, **options).project(name)

    return asyncio.run(run())


def versions(listing):
    """(version, [index names its files come from]) pairs, in preference order."""
    return [
        (str(version), [f.index.name or f.index.format for f in files])
        for version, files in listing.versions
    ]


def statuses(listing):
    return [(o.index.name, o.status) for o in listing.outcomes]


def project_requests(server, project="torch"):
    return [r for r in server.requests if r.path == f"/simple/{project}/"]


@pytest.fixture
def three(tmp_path, index_server):
    """Three indexes with overlapping torch versions: private, mirror, default."""
    dirs = {name: tmp_path / name for name in "abc"}
    make_wheel(dirs["a"], "torch", "2.1.1+cpu")
    make_wheel(dirs["a"], "torch", "2.0")
    make_sdist(dirs["b"], "torch", "2.0")
    make_sdist(dirs["b"], "torch", "1.5")
    for version in ("2.2", "2.1.1", "2.0"):
        make_wheel(dirs["c"], "torch", version)
    make_wheel(dirs["c"], "numpy", "2.0")
    servers = {name: index_server(path) for name, path in dirs.items()}
    indexes = [Index(servers[name].url, name=name) for name in "abc"]
    return servers, indexes


def test_first_index_stops_at_the_first_index_listing_the_project(three):
    servers, indexes = three
    listing = lookup(indexes, "Torch")
    assert listing.name == "torch"
    assert versions(listing) == [("2.1.1+cpu", ["a"]), ("2.0", ["a"])]
    assert statuses(listing) == [("a", "found")]
    assert listing.skipped == tuple(indexes[1:])
    assert listing.error is None
    assert project_requests(servers["b"]) == project_requests(servers["c"]) == []


def test_first_index_moves_on_past_a_404(three):
    servers, indexes = three
    listing = lookup(indexes, "numpy")
    assert statuses(listing) == [("a", "not-found"), ("b", "not-found"), ("c", "found")]
    assert listing.outcomes[0].detail == "HTTP 404"
    assert versions(listing) == [("2.0", ["c"])]


def test_unsafe_first_match(three):
    listing = lookup(three[1], "torch", strategy="unsafe-first-match")
    assert versions(listing) == [
        ("2.1.1+cpu", ["a"]),
        ("2.0", ["a"]),
        ("1.5", ["b"]),
        ("2.2", ["c"]),
        ("2.1.1", ["c"]),
    ]
    assert statuses(listing) == [("a", "found"), ("b", "found"), ("c", "found")]


def test_unsafe_best_match(three):
    listing = lookup(three[1], "torch", strategy="unsafe-best-match")
    assert versions(listing) == [
        ("2.2", ["c"]),
        ("2.1.1+cpu", ["a"]),
        ("2.1.1", ["c"]),
        ("2.0", ["a"]),
        ("1.5", ["b"]),
    ]


def test_unknown_strategy_is_a_usage_error(three):
    with pytest.raises(UsageError, match="unsafe-best-match"):
        IndexClient(Fetcher(), three[1], strategy="best")


@pytest.mark.parametrize(
    ("override", "status", "words"),
    [
        (401, "unauthorized", "requires credentials, and none were given"),
        (403, "forbidden", "requires credentials, and none were given"),
        (503, "unreachable", "while looking for 'torch': HTTP 503 Service Unavailable"),
    ],
)
def test_refusals_and_server_errors_stop_the_search(three, override, status, words):
    servers, indexes = three
    servers["a"].configure(status={"torch": override})
    listing = lookup(indexes, "torch")
    assert listing.error is not None and listing.error.status == status
    assert listing.versions == ()
    assert statuses(listing) == [("a", status)]
    assert project_requests(servers["b"]) == []
    with pytest.raises(IndexAccessError) as caught:
        listing.raise_for_error()
    assert words in caught.value.message
    assert f"a ({indexes[0].url})" in caught.value.message


def test_a_refusal_by_an_index_given_credentials_says_they_were_rejected(three):
    servers, indexes = three
    servers["a"].configure(auth=("user", "right"))
    wrong = Index(indexes[0].url.replace("http://", "http://user:wrong@"), name="a")
    listing = lookup([wrong, *indexes[1:]], "torch")
    with pytest.raises(IndexAccessError) as caught:
        listing.raise_for_error()
    assert "rejected the credentials given in its URL" in caught.value.message
    assert "wrong" not in str(caught.value)
    assert f"a ({indexes[0].url})" in caught.value.message


def test_unsafe_strategies_also_report_a_failing_index(three):
    servers, indexes = three
    servers["b"].configure(status={"torch": 403})
    listing = lookup(indexes, "torch", strategy="unsafe-best-match")
    assert listing.error is not None and listing.error.index is indexes[1]
    assert statuses(listing) == [("a", "found"), ("b", "forbidden"), ("c", "found")]


@pytest.mark.parametrize(
    ("strategy", "best"),
    [("first-index", ("2.0", ["b"])), ("unsafe-best-match", ("2.2", ["c"]))],
)
def test_an_ignored_error_code_means_not_found_on_that_index(three, strategy, best):
    servers, indexes = three
    servers["a"].configure(status={"torch": 403})
    private = msgspec.structs.replace(indexes[0], ignore_error_codes=frozenset({403}))
    listing = lookup([private, *indexes[1:]], "torch", strategy=strategy)
    assert listing.error is None
    assert listing.outcomes[0].status == "not-found"
    assert listing.outcomes[0].detail == "HTTP 403, ignored by configuration"
    assert versions(listing)[0] == best


def test_only_the_listed_error_codes_are_ignored(three):
    servers, indexes = three
    servers["a"].configure(status={"torch": 401})
    private = msgspec.structs.replace(indexes[0], ignore_error_codes=frozenset({403}))
    listing = lookup([private, *indexes[1:]], "torch")
    assert statuses(listing) == [("a", "unauthorized")]
    assert project_requests(servers["b"]) == []


@pytest.mark.parametrize(("override", "suggested"), [(403, True), (401, False)])
def test_a_403_refusal_suggests_ignoring_the_code(three, override, suggested):
    servers, indexes = three
    servers["a"].configure(status={"torch": override})
    with pytest.raises(IndexAccessError) as caught:
        lookup(indexes, "torch").raise_for_error()
    assert ("`ignore-error-codes = [403]`" in (caught.value.hint or "")) is suggested


def test_a_flat_location_ignoring_its_error_code_offers_nothing(three, index_server, tmp_path):
    locked = index_server(tmp_path / "empty", auth=("user", "secret"))
    flat = Index(locked.flat_url, format="flat", ignore_error_codes=frozenset({401}))
    listing = lookup([*three[1], flat], "torch")
    assert listing.error is None
    assert statuses(listing) == [("a", "found"), (None, "not-found")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_index_stops_the_search_and_is_named(three):
    servers, indexes = three
    down = Index(f"http://127.0.0.1:{_closed_port()}/simple/", name="down")
    listing = lookup([down, *indexes], "torch")
    assert statuses(listing) == [("down", "unreachable")]
    assert listing.outcomes[0].detail == "connection refused"
    with pytest.raises(IndexAccessError, match=r"Could not reach the index down \(http://127"):
        listing.raise_for_error()
    assert project_requests(servers["a"]) == []


def test_a_pinned_project_is_looked_up_only_on_its_index(three):
    servers, indexes = three
    listing = lookup(indexes, "torch", pins={"torch": "c"})
    assert statuses(listing) == [("c", "found")]
    assert versions(listing)[0] == ("2.2", ["c"])
    assert listing.skipped == tuple(indexes[:2])
    assert project_requests(servers["a"]) == []


def test_pinning_to_an_unknown_index_lists_the_defined_names(three):
    with pytest.raises(UsageError) as caught:
        IndexClient(Fetcher(), three[1], pins={"torch": "pytorch"})
    assert "'pytorch'" in caught.value.message
    assert "a, b, c" in caught.value.message


def test_explicit_indexes_serve_only_projects_pinned_to_them(three):
    servers, (a, b, c) = three
    explicit = Index(c.url, name="c", explicit=True)

    async def run():
        async with Fetcher(timeout=5) as fetcher:
            client = IndexClient(fetcher, [a, b, explicit], pins={"numpy": "c"})
            return (
                await client.project("torch"),
                await client.project("numpy"),
                await client.other_offers("torch"),
            )

    torch, numpy, offers = asyncio.run(run())
    assert statuses(torch) == [("a", "found")]
    assert torch.skipped == (b, explicit)
    assert statuses(numpy) == [("c", "found")]
    # The hint lookup asks what first-index and the explicit index held back.
    assert [(o.index.name, o.status, o.detail) for o in offers] == [
        ("b", "found", "2 files"),
        ("c", "found", "3 files"),
    ]


def test_concurrent_lookups_of_one_project_share_one_fetch(three):
    servers, indexes = three

    async def run():
        async with Fetcher(timeout=5) as fetcher:
            client = IndexClient(fetcher, indexes)
            results = await asyncio.gather(*(client.project(n) for n in ["torch", "Torch", "TORCH"]))
            return results + [await client.project("torch")]

    results = asyncio.run(run())
    assert all(result is results[0] for result in results)
    assert len(project_requests(servers["a"])) == 1


def test_the_client_asks_for_json_first(three):
    servers, indexes = three
    lookup(indexes, "torch")
    accept = project_requests(servers["a"])[0].headers["accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json,")


@pytest.mark.parametrize("formats", [("html",), ("json",)])
def test_html_only_and_json_only_indexes_give_the_same_files(tmp_path, index_server, formats):
    make_wheel(tmp_path, "demo", "1.0", requires_python=">=3.9")
    make_sdist(tmp_path, "demo", "1.0")
    server = index_server(tmp_path, formats=formats, metadata=True, yanked={"demo-1.0.tar.gz": "bad"})
    [(version, files)] = lookup([Index(server.url)], "demo").versions
    wheel, sdist = sorted(files, key=lambda f: f.kind, reverse=True)
    assert (wheel.kind, sdist.kind) == ("wheel", "sdist")
    assert str(wheel.requires_python) == ">=3.9"
    assert wheel.core_metadata is not None and set(wheel.core_metadata) == {"sha256"}
    assert wheel.metadata_url == server.files_url + wheel.filename + ".metadata"
    assert sdist.yanked == "bad" and wheel.yanked is None
    assert wheel.hashes["sha256"] == __import__("hashlib").sha256(
        (tmp_path / wheel.filename).read_bytes()
    ).hexdigest()


def test_file_index_tree(tmp_path, three):
    servers, indexes = three
    local = tmp_path / "local"
    make_wheel(local, "numpy", "1.26")
    url = write_file_index(local, tmp_path / "tree")
    file_index = Index(url, name="file")
    listing = lookup([file_index, *indexes], "numpy")
    assert statuses(listing) == [("file", "found")]
    [(version, [file])] = listing.versions
    assert file.url == (tmp_path / "tree" / "files" / file.filename).as_uri()
    assert Path(file.url.removeprefix("file://")).is_file()
    # A project missing from the tree is a miss: the next index is asked.
    assert statuses(lookup([file_index, *indexes], "torch"))[:2] == [("file", "not-found"), ("a", "found")]


@pytest.fixture
def wheelhouse(tmp_path):
    house = tmp_path / "wheelhouse"
    make_wheel(house, "torch", "2.0", tag="cp311-cp311-linux_x86_64")
    make_wheel(house, "torch", "3.0")
    make_sdist(house, "other", "1.0")
    (house / "README.txt").write_text("not a distribution")
    return house


def test_a_flat_directory_adds_its_files_to_every_lookup(three, wheelhouse):
    servers, indexes = three
    flat = Index(wheelhouse.as_uri(), format="flat")
    listing = lookup([*indexes, flat], "torch")
    assert versions(listing) == [("3.0", ["flat"]), ("2.1.1+cpu", ["a"]), ("2.0", ["flat", "a"])]
    assert statuses(listing) == [("a", "found"), (None, "found")]
    other = lookup([*indexes, flat], "other")
    assert versions(other) == [("1.0", ["flat"])]
    assert statuses(other)[-1] == (None, "found")


def test_a_flat_page_of_links(tmp_path, index_server, three, wheelhouse):
    servers, indexes = three
    links = index_server(wheelhouse)
    flat = Index(links.flat_url, format="flat")

    async def run():
        async with Fetcher(timeout=5) as fetcher:
            client = IndexClient(fetcher, [*indexes, flat], pins={"torch": "b"})
            return await client.project("torch"), await client.project("other")

    torch, other = asyncio.run(run())
    assert versions(torch) == [("3.0", ["flat"]), ("2.0", ["flat", "b"]), ("1.5", ["b"])]
    assert torch.versions[0][1][0].url == links.files_url + "torch-3.0-py3-none-any.whl"
    assert versions(other) == [("1.0", ["flat"])]
    # The page is read once for all projects.
    assert [r.path for r in links.requests] == ["/flat/"]


def test_a_missing_flat_location_is_an_error(tmp_path, three):
    flat = Index((tmp_path / "nowhere").as_uri(), format="flat")
    listing = lookup([*three[1], flat], "torch")
    assert listing.error is not None and listing.error.index is flat
    with pytest.raises(IndexAccessError) as caught:
        listing.raise_for_error()
    assert caught.value.message == (
        f"The find-links location {flat.url} could not be used while looking for 'torch': "
        "it does not exist."
    )
