"""The WebSocket Origin check: scheme, host and port exactly as the page's.

Channels' ``AllowedHostsOriginValidator`` compares the Origin's host name only,
so ``http://localhost:3000`` (another site on the same machine, with the
browser's session cookie) could read a user's portfolio over the socket. A
socket is accepted only when its Origin is the very origin it was opened on
(scheme from the socket, ``Host`` header, both in ``ALLOWED_HOSTS``), or is
listed in ``CSRF_TRUSTED_ORIGINS``, as Django's CSRF origin check does.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

logger = logging.getLogger(__name__)

__all__ = ["SameOriginValidator", "origin_allowed"]

_HTTP_SCHEME = {"ws": "http", "wss": "https"}
_DEFAULT_PORT = {"http": 80, "https": 443}


def _normal(scheme: str, host: str, port: int | None) -> str:
    port = port or _DEFAULT_PORT.get(scheme)
    return f"{scheme}://{host.lower()}:{port}"


def _from_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORT or not parts.hostname:
            return None
        return _normal(parts.scheme, parts.hostname, parts.port)
    except ValueError:
        return None


def _socket_origin(scope: dict[str, Any], host: str) -> str | None:
    """The origin a page must have had to open this socket."""
    scheme = _HTTP_SCHEME.get(scope.get("scheme", "ws"), "http")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        scheme = "https"  # behind the TLS proxy every page is https
    return _from_url(f"{scheme}://{host}")


def origin_allowed(scope: dict[str, Any]) -> bool:
    headers = dict(scope.get("headers") or [])
    origin_raw = headers.get(b"origin", b"").decode("latin1")
    host = headers.get(b"host", b"").decode("latin1")
    origin = _from_url(origin_raw)
    if origin is None:
        return False
    trusted = {_from_url(u) for u in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    hostname = urlsplit(f"//{host}").hostname or ""
    if not host or not validate_host(hostname, settings.ALLOWED_HOSTS):
        return False
    return origin == _socket_origin(scope, host)


class SameOriginValidator:
    """ASGI middleware: refuse (403 at the handshake) a socket from another origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.info("WebSocket from a foreign origin refused")
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
