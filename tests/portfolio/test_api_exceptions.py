"""The API exception handler turns domain and database errors into 400s."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from portfolio.api.exceptions import exception_handler


def test_django_validation_error_with_fields():
    resp = exception_handler(ValidationError({"__all__": ["a"], "symbol": ["b"]}), {})
    assert resp.status_code == 400
    assert resp.data == {"non_field_errors": ["a"], "symbol": ["b"]}


def test_django_validation_error_plain():
    resp = exception_handler(ValidationError("nope"), {})
    assert resp.status_code == 400 and resp.data == {"non_field_errors": ["nope"]}


def test_integrity_error_is_400():
    resp = exception_handler(IntegrityError("duplicate key"), {})
    assert resp.status_code == 400
    assert "conflicts" in resp.data["non_field_errors"][0]
    assert "duplicate key" not in str(resp.data)


def test_other_errors_are_left_alone():
    assert exception_handler(RuntimeError("x"), {}) is None
