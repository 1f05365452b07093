"""The certificates a run trusts, and loading them ahead of need.

Loading a store of certificates takes 30 to 50 ms, two thirds of it in
OpenSSL without the GIL. Loaded where the first request needs it, it delays
that request by as much; started once the command knows it will connect, it
loads while Python imports the modules that resolve, and costs only its
GIL-held part. The thread is not a daemon: one still inside OpenSSL when
the interpreter shuts down (an early usage error) could crash it.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Mapping
from concurrent.futures import Future

#: The store :func:`prepare_trust_store` is loading, with the bundle it
#: reads (``None``: the system's).
_prepared: tuple[str | None, Future[ssl.SSLContext]] | None = None
_lock = threading.Lock()


def trust_store(environ: Mapping[str, str], cert: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """The certificates to trust: the bundle *cert* if given, else
    ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE`` when set, else the system's
    store. The one :func:`prepare_trust_store` loaded is taken when it is
    that one.

    The system store, not a bundle shipped with a Python package, is what
    company proxies and mirrors add their certificates to, and what curl
    and pip trust on such machines.
    """
    global _prepared
    bundle = _bundle(environ, cert)
    with _lock:
        prepared, _prepared = _prepared, None
    # Taken once: a later caller (a second run in one process) loads its
    # store again, as it would without preparing.
    if prepared is not None and prepared[0] == bundle:
        return prepared[1].result()
    return _load(bundle)


def prepare_trust_store(environ: Mapping[str, str], cert: str | os.PathLike[str] | None = None) -> None:
    """Start loading, on a thread of its own, the store :func:`trust_store`
    would return for *environ* and *cert*. Only a guess that it will be
    asked for: a run that never connects leaves it unused."""
    global _prepared
    bundle = _bundle(environ, cert)
    with _lock:
        if _prepared is not None:
            return
        future: Future[ssl.SSLContext] = Future()
        _prepared = (bundle, future)
    threading.Thread(target=_load_into, args=(future, bundle), name="freewheel-tls").start()


def _bundle(environ: Mapping[str, str], cert: str | os.PathLike[str] | None) -> str | None:
    found = cert or environ.get("SSL_CERT_FILE") or environ.get("REQUESTS_CA_BUNDLE")
    return os.fspath(found) if found else None


def _load_into(future: Future[ssl.SSLContext], bundle: str | None) -> None:
    try:
        future.set_result(_load(bundle))
    except BaseException as error:  # raised again by trust_store, to its caller
        future.set_exception(error)


def _load(bundle: str | None) -> ssl.SSLContext:
    if bundle:
        return ssl.create_default_context(cafile=bundle)
    context = ssl.create_default_context()
    if not context.get_ca_certs() and not ssl.get_default_verify_paths().capath:
        # No system store at all (some minimal containers): fall back to
        # the bundle httpx ships with rather than trust nothing.
        import certifi

        context.load_verify_locations(certifi.where())
    return context
