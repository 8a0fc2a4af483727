"""Login lockout counting: the django-axes handler and backend for our rules.

django-axes does the plumbing: ``AxesStandaloneBackend`` refuses a locked-out
username or IP on every ``authenticate()`` (admin, dashboard login, DRF basic
auth, the token endpoint), its signal receivers feed the handler below, and
``AxesMiddleware`` answers a locked-out page with ``AXES_LOCKOUT_TEMPLATE``.
Counts live in the Django cache (Redis in scale-out, so all processes share
them). Axes 8.3's stock ``AxesCacheHandler`` cannot count the way we must, so
this handler keeps the three rules it lacks:

- **One client cannot lock out another**: ``AXES_FAILURE_LIMIT`` counts per
  username *and* client address together, so failures from one client lock
  that client out of that account only (a count per username from any address
  let anyone lock a known account for good); ``LOGIN_MAX_FAILURES_PER_IP``
  (default 50, room for a shared office address) stops one address spraying
  many usernames. Axes compares one limit with the highest count, so the two
  limits could not differ.
- **The client address behind trusted proxies**: :func:`client_ip` reads
  ``X-Forwarded-For`` only with ``NUM_PROXIES`` set, as DRF's throttle does;
  behind the TLS proxy every client had the proxy's address.
- **Separate keys for username and IP**: axes hashes the bare value, so five
  failures with the *username* ``"203.0.113.5"`` would lock out that address.
- **A success clears the username's count only**, and on every successful
  ``authenticate()``: axes' ``AXES_RESET_ON_SUCCESS`` clears the IP's count too
  (an attacker's own account would wipe their address's record) and runs only on
  ``login()``, which the token endpoint and basic auth never call.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache_timeout, get_client_username, get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

logger = logging.getLogger(__name__)

__all__ = ["LoginLockoutHandler", "ResettingModelBackend", "client_ip"]


def client_ip(request: Any) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``NUM_PROXIES`` trusted
    proxies the ``X-Forwarded-For`` entry the outermost of them appended."""
    meta = getattr(request, "META", {}) or {}
    remote = meta.get("REMOTE_ADDR")
    proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]


def _key(kind: str, value: str) -> str:
    # Short and safe whatever the user typed; surrogatepass: never raises.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"login-lockout:{kind}:{digest[:32]}"


def _epoch(cache: Any, username: str) -> str:
    # A success (or an admin reset) clears the username's counts from every
    # address at once by moving to a new epoch; old pair keys just expire.
    return str(cache.get(_key("user-epoch", username)) or "0")


def _counters(
    cache: Any, request: Any, username: str | None, ip: str | None
) -> list[tuple[str, int]]:
    """(cache key, limit) for each count that applies."""
    counters = []
    if username:
        limit = get_failure_limit(request, {"username": username})
        pair = f"{_epoch(cache, username)}\0{username}\0{ip or ''}"
        counters.append((_key("user-ip", pair), limit))
    if ip:
        counters.append((_key("ip", ip), settings.LOGIN_MAX_FAILURES_PER_IP))
    return counters


class LoginLockoutHandler(AxesCacheHandler):
    """Axes cache handler: a limit per username and per IP, under separate keys."""

    def _request_counters(
        self, request: Any, credentials: dict | None
    ) -> list[tuple[str, int]]:
        username = get_client_username(request, credentials)
        return _counters(self.cache, request, username, request.axes_ip_address)

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        keys = [key for key, _ in self._request_counters(request, credentials)]
        return max(self.cache.get_many(keys).values(), default=0)

    def is_locked(self, request: Any, credentials: dict | None = None) -> bool:
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        counters = self._request_counters(request, credentials)
        counts = self.cache.get_many([key for key, _ in counters])
        return any(counts.get(key, 0) >= limit for key, limit in counters)

    def user_login_failed(
        self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any
    ) -> None:
        if request is None:
            logger.error("Login failure without a request: not counted")
            return
        username = get_client_username(request, credentials)
        ip = request.axes_ip_address
        if request.axes_locked_out:
            # Refused by AxesStandaloneBackend: counting it would stretch the
            # lockout (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off).
            logger.warning("Login refused (locked out): user=%r ip=%s", username, ip)
            self._locked(request, credentials, username)
            return
        if self.is_whitelisted(request, credentials):
            return
        timeout = get_cache_timeout(request)
        locked = False
        for key, limit in _counters(self.cache, request, username, ip):
            failures = self._count(key, timeout)
            locked = locked or failures >= limit
        if locked and settings.AXES_LOCK_OUT_AT_FAILURE:
            logger.warning("Login locked for %ss: user=%r ip=%s", timeout, username, ip)
            self._locked(request, credentials, username)

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        if ip_address is None and username is None:
            raise NotImplementedError("Cannot clear all entries from cache")
        cleared = 0
        if username:
            epoch_key = _key("user-epoch", username)
            self.cache.set(epoch_key, uuid.uuid4().hex, None)
            cleared += 1
        if ip_address:
            cleared += self.cache.delete(_key("ip", ip_address)) and 1 or 0
        return cleared

    def _count(self, key: str, timeout: int | None) -> int:
        if self.cache.add(key, 1, timeout):
            return 1
        try:
            failures = self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout)
            return 1
        # Each failure restarts the window: the lockout lasts the cool-off
        # from the failure that reached the limit.
        self.cache.touch(key, timeout)
        return failures

    @staticmethod
    def _locked(request: Any, credentials: dict, username: str | None) -> None:
        # The flag AxesMiddleware (pages) and the API's exception handler read.
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send(
            "axes",
            request=request,
            username=username,
            ip_address=request.axes_ip_address,
        )


class ResettingModelBackend(ModelBackend):
    """ModelBackend that clears the username's failure count when it succeeds."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user = super().authenticate(
            request, username=username, password=password, **kwargs
        )
        if user is not None:
            AxesProxyHandler.reset_attempts(username=user.get_username())
        return user
