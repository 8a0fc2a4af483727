"""Login lockout counting: the django-axes handler and backend for our rules.

django-axes does the plumbing: ``AxesStandaloneBackend`` refuses a locked-out
username or IP on every ``authenticate()`` (admin, dashboard login, DRF basic
auth, the token endpoint), its signal receivers feed the handler below, and
``AxesMiddleware`` answers a locked-out page with ``AXES_LOCKOUT_TEMPLATE``.
Counts live in the Django cache (Redis in scale-out, so all processes share
them). Axes 8.3's stock ``AxesCacheHandler`` cannot count the way we must, so
this handler keeps the three rules it lacks:

- **A limit per parameter**: ``AXES_FAILURE_LIMIT`` per username and
  ``LOGIN_MAX_FAILURES_PER_IP`` per client IP. Axes compares its single limit
  with the highest of the counts, so the two limits could not differ.
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
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache_timeout, get_client_username, get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

logger = logging.getLogger(__name__)

__all__ = ["LoginLockoutHandler", "ResettingModelBackend"]


def _key(kind: str, value: str) -> str:
    # Short and safe whatever the user typed; surrogatepass: never raises.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"login-lockout:{kind}:{digest[:32]}"


def _counters(
    request: Any, username: str | None, ip: str | None
) -> list[tuple[str, int]]:
    """(cache key, limit) for each count that applies."""
    counters = []
    if username:
        limit = get_failure_limit(request, {"username": username})
        counters.append((_key("user", username), limit))
    if ip:
        counters.append((_key("ip", ip), settings.LOGIN_MAX_FAILURES_PER_IP))
    return counters


class LoginLockoutHandler(AxesCacheHandler):
    """Axes cache handler: a limit per username and per IP, under separate keys."""

    def _request_counters(
        self, request: Any, credentials: dict | None
    ) -> list[tuple[str, int]]:
        username = get_client_username(request, credentials)
        return _counters(request, username, request.axes_ip_address)

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
        for key, limit in _counters(request, username, ip):
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
        keys = [key for key, _ in _counters(None, username, ip_address)]
        present = self.cache.get_many(keys)
        self.cache.delete_many(keys)
        return len(present)

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
