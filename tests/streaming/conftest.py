"""Shared helpers for streaming tests: recorded exchange frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exchanges"


def load_fixture(name: str) -> Any:
    """Load a recorded frame file, Decimal-exact like the feeds decode frames."""
    from decimal import Decimal

    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


@pytest.fixture
def fixture() -> Any:
    return load_fixture
