"""Login rate limiting: ModelBackend that locks out brute-force attempts.

Every ``authenticate()`` call in the project goes through here (the admin login,
the dashboard login, DRF basic auth and the token endpoint), so one place counts
failures. Failures are counted per username and per client IP in the Django
cache (Redis when ``REDIS_URL`` is set, so every process shares the counts).
After ``LOGIN_MAX_FAILURES`` failures (per IP: ``LOGIN_MAX_FAILURES_PER_IP``,
default the same) that username or IP is refused for ``LOGIN_LOCKOUT_SECONDS``,
even with the right password. A successful login clears the username's count.

The client IP is ``REMOTE_ADDR`` only: ``X-Forwarded-For`` is client-controlled
and would let an attacker pick a fresh IP per guess.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

logger = logging.getLogger(__name__)

__all__ = ["RateLimitedModelBackend", "login_keys", "reset_login_failures"]


def _max_failures() -> int:
    return int(getattr(settings, "LOGIN_MAX_FAILURES", 5))


def _max_failures_ip() -> int:
    return int(getattr(settings, "LOGIN_MAX_FAILURES_PER_IP", None) or _max_failures())


def _lockout() -> int:
    return int(getattr(settings, "LOGIN_LOCKOUT_SECONDS", 300))


def _digest(value: str) -> str:
    # Cache keys must be short and safe whatever the user typed.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def client_ip(request: Any) -> str | None:
    meta = getattr(request, "META", None)
    if not meta:
        return None
    return meta.get("REMOTE_ADDR") or None


def login_keys(username: str | None, ip: str | None) -> list[tuple[str, int]]:
    """(cache key prefix, limit) for each counter that applies."""
    keys = []
    if username:
        keys.append((f"login:user:{_digest(username.casefold())}", _max_failures()))
    if ip:
        keys.append((f"login:ip:{_digest(ip)}", _max_failures_ip()))
    return keys


def reset_login_failures(username: str | None = None, ip: str | None = None) -> None:
    for key, _ in login_keys(username, ip):
        cache.delete_many([f"{key}:n", f"{key}:locked"])


class RateLimitedModelBackend(ModelBackend):
    """ModelBackend refusing a username or IP for a while after N failed logins."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        ip = client_ip(request)
        keys = login_keys(username, ip)
        if keys and cache.get_many([f"{key}:locked" for key, _ in keys]):
            logger.warning("Login refused (locked out): user=%r ip=%s", username, ip)
            # PermissionDenied stops Django trying other backends: refused outright.
            raise PermissionDenied("Too many failed logins; try again later.")
        user = super().authenticate(
            request, username=username, password=password, **kwargs
        )
        if user is None:
            if password is not None:
                self._count_failure(keys, username, ip)
            return None
        if username:
            reset_login_failures(username=username)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD

    @staticmethod
    def _count_failure(
        keys: list[tuple[str, int]], username: str | None, ip: str | None
    ):
        window = _lockout()
        for key, limit in keys:
            counter = f"{key}:n"
            cache.add(counter, 0, window)
            try:
                failures = cache.incr(counter)
            except ValueError:  # expired between add and incr
                cache.set(counter, 1, window)
                failures = 1
            if failures >= limit:
                cache.set(f"{key}:locked", 1, window)
                cache.delete(counter)
                logger.warning(
                    "Login locked for %ss after %d failures: user=%r ip=%s",
                    window,
                    failures,
                    username,
                    ip,
                )
