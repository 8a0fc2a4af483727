"""Every answer under /api/ is JSON, including the errors Django itself makes.

DRF words its own errors as JSON, but a few never reach a DRF view: a body
larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (DRF's parsers read the stream
directly and would accept it), Django's 400/500 pages, a 405 from a plain view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from streaming.encoding import dumps

logger = logging.getLogger(__name__)

__all__ = ["ApiJsonErrorsMiddleware"]

API_PREFIX = "/api/"
# The interactive docs are an HTML page on purpose.
HTML_PATHS = ("/api/docs/",)


def _json_error(status: int, detail: str) -> HttpResponse:
    return HttpResponse(
        dumps({"detail": detail}), status=status, content_type="application/json"
    )


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiJsonErrorsMiddleware:
    """Refuse oversized API bodies with a JSON 413; make any non-JSON error JSON.

    Async-capable as well as sync: one sync-only middleware in the stack makes
    Django hop, under ASGI, from the event loop to a thread for it and back to
    the loop for the async middlewares below it, on every request.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        refused = _refused(request)
        if refused is not None:
            return refused
        return _as_json(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refused = _refused(request)
        if refused is not None:
            return refused
        return _as_json(request, await self.get_response(request))


def _refused(request: HttpRequest) -> HttpResponse | None:
    """A JSON 413 for an API body declared over the limit (DRF would read it)."""
    if not request.path.startswith(API_PREFIX):
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and _declared_length(request) > limit:
        return _json_error(
            413, f"The request body is too large (at most {limit} bytes)."
        )
    return None


def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The response, or under /api/ a JSON version of a non-JSON error."""
    if not request.path.startswith(API_PREFIX):
        return response
    if response.status_code < 400 or request.path.startswith(HTML_PATHS):
        return response
    if "json" in response.get("Content-Type", ""):
        return response
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    logger.info("API %s %s answered %s as JSON", request.method, request.path, status)
    replaced = _json_error(status, f"{phrase}.")
    for header in ("WWW-Authenticate", "Allow", "Retry-After"):
        if header in response:
            replaced[header] = response[header]
    return replaced
