"""Which certificates are trusted, and which requests go through a proxy."""

from __future__ import annotations

import asyncio
import gc
import os
import ssl

import pytest
from support.cli import freewheel

from freewheel.errors import UsageError
from freewheel.net import Fetcher, FetchError
from freewheel.net.tls import prepare_trust_store

from .conftest import Reply, serve_demo


def fetch(url, **options):
    options = {"timeout": 5, "retries": 0, **options}

    async def run():
        async with Fetcher(**options) as fetcher:
            return await fetcher.get(url)

    return asyncio.run(run())


@pytest.fixture
def https_server(scripted, self_signed):
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = scripted(tls=context)
    server.script("/simple/", Reply(200, b"secure"))
    return server


def test_an_untrusted_certificate_is_a_tls_error(https_server):
    with pytest.raises(FetchError) as caught:
        # Certificate failures are not retried: they cannot heal.
        fetch(https_server.url + "simple/", retries=3)
    assert caught.value.reason.startswith("TLS error (certificate not trusted: self")
    assert https_server.requests == []


def test_ssl_cert_file_is_trusted(https_server, self_signed, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(self_signed[0]))
    assert fetch(https_server.url + "simple/").content == b"secure"


def test_an_explicit_bundle_is_trusted(https_server, self_signed):
    assert fetch(https_server.url + "simple/", cert=self_signed[0]).content == b"secure"


def test_closed_tls_connections_are_freed_without_the_collector(https_server, self_signed):
    # freewheel's collector runs rarely (see freewheel.__main__): a closed
    # connection must go with its last reference, buffers and all, not wait
    # in a cycle through its TLS transport.
    from freewheel.net.transport import _Incoming

    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            assert fetch(https_server.url + "simple/", cert=self_signed[0]).content == b"secure"
        left = [thing for thing in gc.get_objects() if isinstance(thing, _Incoming)]
    finally:
        gc.enable()
    assert left == []


def test_a_missing_bundle_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="certificate bundle .* does not exist"):
        Fetcher(cert=tmp_path / "missing.pem")


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.1:{port}", "https://127.0.0.1:{port}/"])
def test_an_insecure_host_skips_verification(https_server, entry):
    port = https_server.url.rsplit(":", 1)[1].strip("/")
    response = fetch(https_server.url + "simple/", insecure_hosts=[entry.format(port=port)])
    assert response.content == b"secure"


def test_insecure_hosts_are_that_host_only(https_server):
    with pytest.raises(FetchError, match="TLS error"):
        fetch(https_server.url + "simple/", insecure_hosts=["127.0.0.2", "localhost"])


def test_a_malformed_insecure_host_is_a_usage_error():
    with pytest.raises(UsageError, match="not a host name for --allow-insecure-host"):
        Fetcher(insecure_hosts=["https://"])
    with pytest.raises(UsageError, match="'h:port' is not a host name"):
        Fetcher(insecure_hosts=["h:port"])


def test_proxy_variables_route_requests(scripted, forwarding_proxy, monkeypatch):
    server = scripted()
    server.script("/simple/", Reply(200, b"via proxy"))
    host, port = forwarding_proxy.server_address[:2]
    monkeypatch.setenv("HTTP_PROXY", f"http://{host}:{port}")
    assert fetch(server.url + "simple/").content == b"via proxy"
    assert forwarding_proxy.forwarded == [server.url + "simple/"]


def test_no_proxy_is_honoured(scripted, forwarding_proxy, monkeypatch):
    server = scripted()
    server.script("/simple/", Reply(200, b"direct"))
    host, port = forwarding_proxy.server_address[:2]
    monkeypatch.setenv("ALL_PROXY", f"http://{host}:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert fetch(server.url + "simple/").content == b"direct"
    assert forwarding_proxy.forwarded == []
    assert len(server.requests) == 1


def test_cert_on_the_command_line_or_ssl_cert_file_is_trusted(scripted, self_signed, tmp_path):
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    url = serve_demo(scripted(tls=context), tmp_path)
    (tmp_path / "requirements.in").write_text("demo\n")
    command = ["pip", "compile", tmp_path / "requirements.in", "--no-config", "--no-header", "--no-annotate",
               "--default-index", url, "--cache-dir", tmp_path / "cache"]
    untrusted = freewheel(*command)
    assert untrusted.returncode == 2
    assert "certificate" in untrusted.stderr
    trusted = freewheel(*command, "--cert", cert)
    assert (trusted.returncode, trusted.stdout) == (0, "demo==1.0\n"), trusted.stderr
    # The variable's bundle is what the command line loads ahead.
    from_environment = freewheel(*command, "--no-cache", env={"SSL_CERT_FILE": str(cert)})
    assert (from_environment.returncode, from_environment.stdout) == (0, "demo==1.0\n"), from_environment.stderr


def test_a_prepared_store_is_used_only_for_the_bundle_it_was_loaded_from(https_server, self_signed, monkeypatch):
    # freewheel starts loading the store as a command that fetches starts;
    # the run takes it only when it trusts that same bundle.
    monkeypatch.setenv("SSL_CERT_FILE", str(self_signed[0]))
    prepare_trust_store(os.environ)
    assert fetch(https_server.url + "simple/").content == b"secure"

    prepare_trust_store(os.environ)
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    with pytest.raises(FetchError, match="certificate not trusted"):
        fetch(https_server.url + "simple/")

    prepare_trust_store(os.environ)
    assert fetch(https_server.url + "simple/", cert=self_signed[0]).content == b"secure"

