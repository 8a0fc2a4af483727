"""``GET /metrics``: this process's Prometheus metrics, for loopback or a token.

Metrics name every stream and count every client, so they are not public:
a scraper on the same host (127.0.0.1 / ::1) is let in, anyone else needs
``Authorization: Bearer <METRICS_TOKEN>``. Behind a reverse proxy on the same
host every request looks local, so set METRICS_TOKEN and block the path there.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from streaming import metrics
from streaming.delivery.hub import get_connection_manager

__all__ = ["metrics_view"]


def _is_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _has_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    )


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_is_loopback(request) or _has_token(request)):
        return JsonResponse(
            {
                "detail": "Metrics are served to loopback clients and to "
                "'Authorization: Bearer <METRICS_TOKEN>' only."
            },
            status=403,
        )
    metrics.register_hub(get_connection_manager())
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)
