"""What a channel receives: the alert as the API shows it, signed for webhooks."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from streaming.encoding import dumps

__all__ = ["alert_body", "webhook_body", "signature", "subject", "text", "TEST_ALERT"]

SIGNATURE_HEADER = "X-Portfolio-Signature"
DELIVERY_HEADER = "X-Portfolio-Delivery"

TEST_ALERT: dict[str, Any] = {
    "message": "Test notification from Crypto Portfolio Analyzer: this channel works.",
}


def alert_body(alert: Any) -> dict[str, Any]:
    """Every field of the alert API (source and simulated included), no states."""
    from ..api.serializers import AlertSerializer

    data = dict(AlertSerializer(alert).data)
    data.pop("deliveries", None)  # our own bookkeeping, changes as we send
    data.setdefault("source", alert.source)
    data.setdefault("simulated", alert.simulated)
    return data


def webhook_body(
    *, delivery_id: str, alert: dict[str, Any] | None, test: bool = False
) -> bytes:
    """The exact bytes POSTed and signed; amounts are exact decimal strings."""
    document = {
        "type": "test" if test else "alert.triggered",
        "delivery_id": delivery_id,
        "alert": alert,
        "message": (alert or TEST_ALERT)["message"],
    }
    return dumps(document).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body keyed with the secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def subject(alert: dict[str, Any] | None) -> str:
    if alert is None:
        return "Test notification"
    prefix = "[simulated] " if alert.get("simulated") else ""
    return f"{prefix}Alert: {alert['message']}"[:200]


def text(alert: dict[str, Any] | None) -> str:
    """Plain text for e-mail and chat services."""
    if alert is None:
        return TEST_ALERT["message"]
    lines = [alert["message"], ""]
    for label, key in (
        ("Observed", "observed_value"),
        ("Threshold", "threshold"),
        ("Symbol", "symbol"),
        ("Price source", "source"),
        ("Triggered at", "triggered_at"),
    ):
        if alert.get(key) not in (None, ""):
            lines.append(f"{label}: {alert[key]}")
    if alert.get("simulated"):
        lines.append("Note: this alert rests on a simulated price, not market data.")
    return "\n".join(lines)
