"""Exceptions of the streaming layer (names from the streaming API specification)."""

from __future__ import annotations

import builtins

__all__ = [
    "StreamingError",
    "ConnectionError",
    "DataError",
    "ConfigurationError",
]


class StreamingError(Exception):
    """Base exception for streaming operations."""


class ConnectionError(StreamingError, builtins.ConnectionError):  # noqa: A001
    """Exception for connection failures (also a builtin ConnectionError)."""


class DataError(StreamingError, ValueError):
    """Exception for data processing errors, such as a malformed exchange frame."""


class ConfigurationError(StreamingError, ValueError):
    """Exception for configuration errors, such as an unknown provider or symbol."""
