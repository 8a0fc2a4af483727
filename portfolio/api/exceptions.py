"""One DRF exception handler: domain and database errors become clear 400s.

A login that django-axes locked out (token endpoint, basic auth) becomes a 429
with a JSON error: axes flags the DRF request, and its middleware only answers
pages (it sees the Django request, not DRF's wrapper).
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = ["LoginLockedOut", "exception_handler"]


class LoginLockedOut(exceptions.Throttled):
    """Too many failed logins for this username or from this address."""

    default_detail = "Too many failed logins; try again later."
    default_code = "login_locked_out"


def _django_errors(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {
            (
                api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key
            ): msgs
            for key, msgs in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map a lockout to 429, Django ``ValidationError``/``IntegrityError`` to 400."""
    request = context.get("request")
    if isinstance(exc, exceptions.APIException) and getattr(
        request, "axes_locked_out", False
    ):
        cool_off = get_cool_off(request)
        exc = LoginLockedOut(wait=cool_off.total_seconds() if cool_off else None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_errors(exc))
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError(
            {
                api_settings.NON_FIELD_ERRORS_KEY: [
                    "The change conflicts with existing data (for example a "
                    "duplicate holding); reload and try again."
                ]
            }
        )
    return drf_exception_handler(exc, context)
