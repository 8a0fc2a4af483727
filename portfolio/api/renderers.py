"""The API's JSON renderer, on the project's one encoder (streaming.encoding)."""

from __future__ import annotations

from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from streaming.encoding import JSONEncoder

__all__ = ["JSONRenderer", "BrowsableAPIRenderer"]


class JSONRenderer(DRFJSONRenderer):
    """DRF's renderer with our encoder, so an amount prints as it does in frames."""

    encoder_class = JSONEncoder
