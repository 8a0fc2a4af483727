"""Server-side request forgery guard for webhook and Apprise targets.

A user names the URL, the server connects to it: without a guard anybody could
make the server POST to its own admin port, the cloud metadata address or a
database on the private network. So every target address must be public
unless ``NOTIFY_ALLOW_PRIVATE_ADDRESSES`` is on.

Checking the URL when it is saved is not enough (DNS may change, a receiver may
redirect). So the check also runs at the moment of connecting: inside
:func:`guarded_connections` every urllib3 connection of this thread (our
webhooks, and requests/Apprise, which use urllib3) resolves the host once,
refuses private addresses and connects to the address it checked — redirects
included. That is the one place we reach into urllib3
(``urllib3.util.connection.create_connection``, looked up on every connect by
``urllib3.connection.HTTPConnection._new_conn``); :func:`guard_installed`
tells whether the hook still matches the pinned version (tested).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import urllib3.util.connection as urllib3_connection
from django.conf import settings

__all__ = [
    "UnsafeTarget",
    "check_host",
    "check_url",
    "guarded_connections",
    "guard_installed",
    "is_public_address",
]

logger = logging.getLogger(__name__)

_local = threading.local()
_original_create_connection = urllib3_connection.create_connection


class UnsafeTarget(OSError):
    """A target on a private, loopback, link-local or otherwise internal address."""


def allow_private() -> bool:
    return bool(settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES)


def is_public_address(text: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 unwrapped)."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def check_host(host: str, port: int = 443, *, missing_ok: bool = False) -> None:
    """Raise UnsafeTarget if ``host`` is or resolves to a non-public address.

    ``missing_ok``: a name that does not resolve passes (an Apprise "host" is
    often a token of a service with a fixed public endpoint).
    """
    if allow_private():
        return
    if not host:
        if missing_ok:
            return
        raise UnsafeTarget("The address has no host name.")
    try:
        infos = _resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        if missing_ok:
            return
        raise UnsafeTarget(f"The host {host} could not be resolved.") from exc
    for info in infos:
        if not is_public_address(info[4][0]):
            raise UnsafeTarget(
                f"The host {host} is on a private, loopback or link-local "
                "address; notifications go to public addresses only."
            )


def check_url(url: str, *, schemes: tuple[str, ...] = ("http", "https")) -> None:
    """Raise UnsafeTarget (a ValueError for bad syntax) for a URL we will not call."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes:
        raise ValueError("Only http:// and https:// addresses are accepted.")
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    check_host(parts.hostname or "", port)


def _guarded_create_connection(address: tuple[str, int], *args: Any, **kwargs: Any):
    """urllib3's connect, but resolving once and refusing internal addresses."""
    if not getattr(_local, "active", False) or allow_private():
        return _original_create_connection(address, *args, **kwargs)
    host, port = address
    error: OSError | None = None
    for info in _resolve(host, port):
        ip = info[4][0]
        if not is_public_address(ip):
            _local.refused = f"{host} resolves to the non-public address {ip}"
            raise UnsafeTarget(_local.refused)
        try:
            # Connect to the very address checked: no second lookup to rebind.
            return _original_create_connection((ip, port), *args, **kwargs)
        except OSError as exc:
            error = exc
    raise error or OSError(f"No address for {host}")


@contextmanager
def guarded_connections() -> Iterator[threading.local]:
    """Every urllib3 connection of this thread inside is checked (see module doc).

    Yields the thread state; ``state.refused`` is set when a connection was
    refused, so a caller can tell a refusal (permanent) from a network error.
    """
    _local.active, _local.refused = True, None
    try:
        yield _local
    finally:
        _local.active = False


def guard_installed() -> bool:
    """True while urllib3 still connects through the hook (the pinned layout)."""
    import urllib3.connection

    return (
        urllib3.connection.connection is urllib3_connection
        and urllib3_connection.create_connection is _guarded_create_connection
    )


urllib3_connection.create_connection = _guarded_create_connection
