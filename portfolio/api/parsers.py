"""The API's JSON parser: exact numbers, bounded nesting, valid text only.

DRF's parser reads numbers as ``float``: ``0.123456789012345678`` was stored
as ``0.12345678901234568`` and a 60-digit number silently lost most of its
digits (the same digits as a string got a 400). Here a JSON number is read as
an exact ``Decimal``, so the serializers' digit limits apply to both forms.
Deep nesting (a RecursionError, 500) and lone surrogates (which broke the
error renderer, 500) are refused up front with a 400.
"""

from __future__ import annotations

import codecs
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser

from streaming.encoding import nesting_exceeds

__all__ = ["JSONParser", "MAX_DEPTH"]

MAX_DEPTH = 16  # nesting of arrays/objects a request body may use


def _refuse_constant(name: str) -> Any:
    raise ParseError(f"{name} is not a number this API accepts; send a decimal string.")


def _check(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(
                "The body contains an invalid character (a lone surrogate)."
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


class JSONParser(DRFJSONParser):
    """DRF's JSON parser with exact decimals and the checks above."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise ParseError("The body is not valid UTF-8 text.") from None
        if nesting_exceeds(text, MAX_DEPTH):
            raise ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.")
        try:
            data = json.loads(
                text, parse_float=Decimal, parse_constant=_refuse_constant
            )
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"The body is not valid JSON: {exc}") from None
        _check(data)
        return data
