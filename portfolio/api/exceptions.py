"""One DRF exception handler: domain and database errors become clear 400s."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = ["exception_handler"]


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
    """Map Django ``ValidationError`` and ``IntegrityError`` to 400, else DRF's."""
    if isinstance(exc, DjangoValidationError):
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
