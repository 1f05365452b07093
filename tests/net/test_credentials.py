"""Credentials: where they come from, and which requests carry them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap

import pytest
from rich.pretty import pretty_repr
from support.cli import freewheel

from freewheel.config.indexes import Index
from freewheel.errors import UsageError
from freewheel.net import Fetcher, FetchError
from freewheel.net.auth import Credentials, CredentialStore, index_env_prefix, scope_of

from .conftest import Reply, serve_demo

SECRET = ("alice", "s3cret")


def fetch_all(urls, **options):
    """Fetch *urls* in order with one fetcher; a FetchError stands in for its response."""
    options = {"timeout": 5, "retries": 0, **options}

    async def run():
        results = []
        async with Fetcher(**options) as fetcher:
            for url in urls:
                try:
                    results.append(await fetcher.get(url))
                except FetchError as exc:
                    results.append(exc)
        return results

    return asyncio.run(run())


def statuses(urls, **options):
    return [response.status for response in fetch_all(urls, **options)]


def with_userinfo(url, user, password):
    return url.replace("://", f"://{user}:{password}@", 1)


@pytest.fixture
def private(scripted):
    """A host with a private index under /org/ and a public one under /pub/."""
    server = scripted()
    for path in ("/org/simple/demo/", "/org/packages/demo-1.0.tar.gz"):
        server.script(path, Reply(auth=SECRET))
    server.script("/pub/simple/demo/", Reply())
    return server


def auth_sent(server, path):
    return [request.basic_auth for request in server.seen(path)]


def test_url_credentials_cover_the_index_prefix_and_no_other(private):
    index = Index(with_userinfo(private.url, *SECRET) + "org/simple/", name="org")
    store = CredentialStore.from_indexes([index], {})
    paths = ("org/simple/demo/", "org/packages/demo-1.0.tar.gz", "pub/simple/demo/")
    urls = [private.url + path for path in paths]
    assert statuses(urls, credentials=store) == [200, 200, 200]
    assert auth_sent(private, "/pub/simple/demo/") == [None]


def test_credentials_in_a_requested_url_are_remembered_for_its_index(private):
    urls = [
        with_userinfo(private.url, *SECRET) + "org/simple/demo/",
        private.url + "org/packages/demo-1.0.tar.gz",
        private.url + "pub/simple/demo/",
    ]
    assert statuses(urls) == [200, 200, 200]
    assert auth_sent(private, "/pub/simple/demo/") == [None]


def test_a_redirect_to_another_host_or_prefix_carries_no_credentials(private, scripted):
    other = scripted()
    other.script("/demo/", Reply())
    private.script("/org/simple/away/", Reply(302, headers={"Location": other.url + "demo/"}))
    private.script("/org/simple/aside/", Reply(302, headers={"Location": "/pub/simple/demo/"}))
    private.script(
        "/org/simple/back/", Reply(302, headers={"Location": "/org/packages/demo-1.0.tar.gz"})
    )
    index = Index(with_userinfo(private.url, *SECRET) + "org/simple/", name="org")
    store = CredentialStore.from_indexes([index], {})
    urls = [private.url + f"org/simple/{name}/" for name in ("away", "aside", "back")]
    away, aside, back = fetch_all(urls, credentials=store)
    assert (away.status, away.url) == (200, other.url + "demo/")
    assert (aside.status, aside.url) == (200, private.url + "pub/simple/demo/")
    assert (back.status, back.url) == (200, private.url + "org/packages/demo-1.0.tar.gz")
    assert [r.basic_auth for r in other.requests] == [None]
    assert auth_sent(private, "/pub/simple/demo/") == [None]
    assert auth_sent(private, "/org/packages/demo-1.0.tar.gz") == [SECRET]


def test_dot_segments_do_not_lead_credentials_out_of_their_scope(private):
    index = Index(with_userinfo(private.url, *SECRET) + "org/simple/", name="org")
    store = CredentialStore.from_indexes([index], {})
    assert statuses([private.url + "org/simple/../../pub/simple/demo/"], credentials=store) == [200]
    assert auth_sent(private, "/pub/simple/demo/") == [None]


def test_named_index_credentials_come_from_the_environment(private):
    environ = {
        "FREEWHEEL_INDEX_MY_ORG_PRIVATE_USERNAME": "alice",
        "FREEWHEEL_INDEX_MY_ORG_PRIVATE_PASSWORD": "s3cret",
        # Another index's variables do not leak to this one.
        "FREEWHEEL_INDEX_PUB_PASSWORD": "nope",
    }
    indexes = [
        Index(private.url + "org/simple/", name="my-org.private"),
        Index(private.url + "pub/simple/"),
    ]
    store = CredentialStore.from_indexes(indexes, environ)
    urls = [private.url + "org/simple/demo/", private.url + "pub/simple/demo/"]
    assert statuses(urls, credentials=store) == [200, 200]
    assert auth_sent(private, "/pub/simple/demo/") == [None]


def test_the_url_wins_over_the_environment(private):
    index = Index(with_userinfo(private.url, *SECRET) + "org/simple/", name="org")
    environ = {"FREEWHEEL_INDEX_ORG_USERNAME": "mallory", "FREEWHEEL_INDEX_ORG_PASSWORD": "x"}
    store = CredentialStore.from_indexes([index], environ)
    assert statuses([private.url + "org/simple/demo/"], credentials=store) == [200]


def test_environment_names_follow_uv():
    assert index_env_prefix("my-org.private") == "FREEWHEEL_INDEX_MY_ORG_PRIVATE_"
    assert index_env_prefix("Internal2") == "FREEWHEEL_INDEX_INTERNAL2_"


def test_netrc_credentials_go_to_their_host(private, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login alice\n  password s3cret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    elsewhere = private.url.replace("127.0.0.1", "localhost")
    urls = [private.url + "org/simple/demo/", elsewhere + "pub/simple/demo/"]
    assert statuses(urls) == [200, 200]
    assert auth_sent(private, "/pub/simple/demo/") == [None]


def test_the_home_netrc_is_read_and_completes_a_user_name(private, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login alice password s3cret\n")
    assert statuses([private.url.replace("://", "://alice@") + "org/simple/demo/"]) == [200]


def test_a_malformed_netrc_is_a_usage_error(tmp_path):
    (tmp_path / "netrc").write_text("machine\n")
    with pytest.raises(UsageError, match="Could not read the netrc file"):
        CredentialStore.from_indexes([], {"NETRC": str(tmp_path / "netrc")})


@pytest.fixture
def fake_keyring(tmp_path, monkeypatch):
    """A ``keyring`` command on PATH: ``(answer(arguments, output), calls())``.

    It prints the output set for its arguments (exit 1 for others) and logs
    every call.
    """
    answers = {}
    log = tmp_path / "keyring.log"
    script = tmp_path / "bin" / "keyring"
    script.parent.mkdir()
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, sys
            with open({str(log)!r}, "a") as log:
                log.write(json.dumps(sys.argv[1:]) + "\\n")
            answers = json.load(open({str(tmp_path / "answers.json")!r}))
            answer = answers.get(" ".join(sys.argv[1:]))
            if answer is None:
                sys.exit(1)
            print(answer)
            """
        )
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")

    def calls():
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def answer(question, reply):
        answers[question] = reply
        (tmp_path / "answers.json").write_text(json.dumps(answers))

    (tmp_path / "answers.json").write_text("{}")
    return answer, calls


def test_a_401_asks_the_keyring_once_with_the_index_url_and_user(private, fake_keyring):
    answer, calls = fake_keyring
    index_url = private.url + "org/simple/"
    answer(f"get {index_url} alice", "s3cret")
    index = Index(index_url.replace("://", "://alice@"), name="org")
    store = CredentialStore.from_indexes([index], {})
    urls = [private.url + "org/simple/demo/", private.url + "org/packages/demo-1.0.tar.gz"]
    assert statuses(urls, credentials=store, keyring_provider="subprocess") == [200, 200]
    assert calls() == [["get", index_url, "alice"]]
    # First without a password (401), then with the keyring's, then reused.
    assert auth_sent(private, "/org/simple/demo/") == [("alice", ""), SECRET]


def test_the_keyring_falls_back_to_the_host_and_to_creds_mode(private, fake_keyring):
    answer, calls = fake_keyring
    netloc = private.url.split("/")[2]
    answer(f"--mode creds get {netloc}", "alice\ns3cret")
    assert statuses([private.url + "org/simple/demo/"], keyring_provider="subprocess") == [200]
    asked = private.url + "org/simple/demo/"
    assert calls() == [["--mode", "creds", "get", asked], ["--mode", "creds", "get", netloc]]


def test_without_the_keyring_provider_a_401_is_the_answer(private, fake_keyring):
    _, calls = fake_keyring
    assert statuses([private.url + "org/simple/demo/"]) == [401]
    assert calls() == []


def test_a_missing_keyring_command_finds_nothing(private, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert statuses([private.url + "org/simple/demo/"], keyring_provider="subprocess") == [401]


def test_an_unknown_keyring_provider_is_a_usage_error():
    with pytest.raises(UsageError, match="Unknown keyring provider 'import'"):
        Fetcher(keyring_provider="import")


def test_passwords_never_show(private):
    private.script("/org/simple/broken/", Reply(503, auth=SECRET))
    index = Index(with_userinfo(private.url, *SECRET) + "org/simple/", name="org")
    store = CredentialStore.from_indexes([index], {})
    broken = with_userinfo(private.url, *SECRET) + "org/simple/broken/"
    [error] = fetch_all([broken], credentials=store)
    assert isinstance(error, FetchError)
    assert "s3cret" not in str(error) and "s3cret" not in repr(error)
    assert error.url == private.url + "org/simple/broken/"
    assert "s3cret" not in repr(store)
    assert repr(Credentials("alice", "s3cret")) == "Credentials(username='alice', password='****')"
    assert pretty_repr(Credentials("alice", "s3cret")) == "Credentials(username='alice', password='****')"


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        ("https://h/org/simple/", "/org/"),
        ("https://h/simple/demo/", "/"),
        ("https://h/root/pypi/+simple/", "/root/pypi/"),
        ("https://h/org/links.html", "/org/"),
        ("https://h", "/"),
    ],
)
def test_scopes_stop_before_the_simple_segment(url, prefix):
    assert scope_of(url).prefix == prefix


def test_keyring_provider_on_the_command_line(scripted, fake_keyring, tmp_path):
    answer, calls = fake_keyring
    server = scripted()
    url = serve_demo(server, tmp_path, auth=SECRET).replace("://", f"://{SECRET[0]}@")
    host = server.url.split("/")[2]
    answer(f"get {host} {SECRET[0]}", SECRET[1])
    (tmp_path / "requirements.in").write_text("demo\n")
    command = ["pip", "compile", tmp_path / "requirements.in", "--no-config", "--no-header", "--no-annotate",
               "--default-index", url, "--cache-dir", tmp_path / "cache"]
    without = freewheel(*command)
    assert without.returncode == 2
    assert calls() == []
    with_keyring = freewheel(*command, "--keyring-provider", "subprocess")
    assert (with_keyring.returncode, with_keyring.stdout) == (0, "demo==1.0\n"), with_keyring.stderr
    assert calls()[-1] == ["get", host, SECRET[0]]
