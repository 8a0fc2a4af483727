"""API input/output shapes; every amount, price and percentage is a decimal string."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    AMOUNT_FIELD_KWARGS,
    Alert,
    AlertKind,
    AlertRule,
    Holding,
    WatchedSymbol,
)
from ..validators import validate_symbol
from ..valuation import decimal_str
from .notification_serializers import DeliverySerializer

SYMBOL_HELP = (
    "Base asset in upper case, e.g. BTC. GET /api/prices/ lists the symbols "
    "currently priced."
)


def decimal_messages(max_digits: int, decimal_places: int) -> dict[str, str]:
    """DRF's decimal errors ("no more than 34 digits in total") in a user's words."""
    below = f"Enter a number below 10^{max_digits - decimal_places}."
    return {
        "invalid": "Enter a number, e.g. 0.5 (digits and one decimal point).",
        "max_digits": below,
        "max_whole_digits": below,
        "max_decimal_places": f"Use at most {decimal_places} decimal places.",
        "max_string_length": below,
        "null": "Enter a number.",
        "required": "Enter a number.",
    }


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
)
class DecimalString(serializers.DecimalField):
    """A DecimalField whose output is exact fixed-point text ("1000", "0.5")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", AMOUNT_FIELD_KWARGS["max_digits"])
        kwargs.setdefault("decimal_places", AMOUNT_FIELD_KWARGS["decimal_places"])
        messages = decimal_messages(kwargs["max_digits"], kwargs["decimal_places"])
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        if value is None:
            return None
        return decimal_str(Decimal(str(value)))


class SymbolField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 15)
        kwargs.setdefault("help_text", SYMBOL_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value == "" and self.allow_blank:
            return value
        try:
            validate_symbol(value)
        except Exception as exc:  # Django ValidationError, already in words
            message = " ".join(getattr(exc, "messages", [str(exc)]))
            raise serializers.ValidationError(message) from exc
        return value


# -- holdings -------------------------------------------------------------
class HoldingSerializer(serializers.ModelSerializer):
    symbol = SymbolField()
    amount = DecimalString(help_text="Units held: > 0, at most 10^15, 18 decimals.")
    cost_basis = DecimalString(
        required=False,
        allow_null=True,
        help_text="Total paid for the holding in USD (optional).",
    )

    class Meta:
        model = Holding
        fields = ["id", "symbol", "amount", "cost_basis", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []  # uniqueness is checked by the service


# -- watch list --------------------------------------------------------------
class WatchedSymbolSerializer(serializers.ModelSerializer):
    symbol = SymbolField(help_text="A listed symbol to follow, e.g. ETH.")

    class Meta:
        model = WatchedSymbol
        fields = ["id", "symbol", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # uniqueness is checked by the service


# -- alert rules ------------------------------------------------------------
class AlertRuleSerializer(serializers.ModelSerializer):
    symbol = SymbolField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for price and change kinds, empty for portfolio kinds. "
        + SYMBOL_HELP,
    )
    threshold = DecimalString(help_text="USD for price/portfolio kinds, % for change.")
    kind = serializers.ChoiceField(choices=AlertKind.choices)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "kind",
            "symbol",
            "threshold",
            "enabled",
            "one_shot",
            "cooldown_seconds",
            "last_triggered_at",
            "last_condition_met",
            "trigger_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "last_triggered_at",
            "last_condition_met",
            "trigger_count",
            "created_at",
            "updated_at",
        ]


# -- alerts -----------------------------------------------------------------
class AlertSerializer(serializers.ModelSerializer):
    threshold = DecimalString(read_only=True)
    observed_value = DecimalString(read_only=True)
    acknowledged = serializers.BooleanField(read_only=True)
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "kind",
            "symbol",
            "threshold",
            "observed_value",
            "message",
            "source",
            "simulated",
            "triggered_at",
            "acknowledged",
            "acknowledged_at",
            "deliveries",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "source": {
                "help_text": "Price source of the observed value (binance, "
                "coinbase, mock); empty for a total priced by several."
            },
            "simulated": {
                "help_text": "True when the observed value rests on a simulated "
                "(mock) price: not market data."
            },
        }


class AlertFilterSerializer(serializers.Serializer):
    acknowledged = serializers.BooleanField(
        required=False, allow_null=True, default=None
    )


class AlertAcknowledgeSerializer(serializers.Serializer):
    ids = serializers.ListField(
        # max_value: an id past BigAutoField's range was a 500 (OverflowError).
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        allow_empty=False,
        max_length=1000,
        help_text="Ids of your alerts to acknowledge (others are ignored).",
    )


class AcknowledgedCountSerializer(serializers.Serializer):
    acknowledged = serializers.IntegerField(
        help_text="How many were newly acknowledged."
    )


# -- portfolio summary (documentation of valuation.portfolio_summary) ---------
def _dec(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(allow_null=True, help_text=help_text)


class PriceStatusSerializer(serializers.Serializer):
    source = serializers.CharField(
        allow_null=True, help_text="binance, coinbase, kraken, mock or manual."
    )
    quote = serializers.CharField(
        allow_null=True,
        help_text="Currency the price is quoted in: USDT on Binance, USD on Coinbase.",
    )
    price_timestamp = serializers.CharField(
        allow_null=True, help_text="Exchange event time (ISO-8601)."
    )
    age_seconds = _dec("Seconds since the event time.")
    stale = serializers.BooleanField(
        allow_null=True, help_text="Older than the stale limit."
    )
    simulated = serializers.BooleanField(
        allow_null=True, help_text="True for mock (simulated) prices."
    )


class HoldingValuationSerializer(PriceStatusSerializer):
    symbol = serializers.CharField()
    amount = _dec()
    cost_basis = _dec()
    price = _dec("Null when no price is known yet.")
    value = _dec("amount x price; null when unpriced.")
    change_24h = _dec("Value change over 24h (amount x price change).")
    change_percent_24h = _dec("4 decimal places.")
    allocation_percent = _dec("Share of the priced total, 4 decimal places.")
    unrealized_pl = _dec("value - cost_basis.")
    unrealized_pl_percent = _dec("4 decimal places.")


class PortfolioTotalsSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="Sum over priced holdings.")
    change_24h = _dec()
    change_percent_24h = _dec()
    cost_basis = _dec("Sum over priced holdings with a cost basis.")
    unrealized_pl = _dec()
    unrealized_pl_percent = _dec()
    holding_count = serializers.IntegerField()
    priced_count = serializers.IntegerField()
    unpriced_count = serializers.IntegerField()
    stale_count = serializers.IntegerField()
    simulated = serializers.BooleanField(
        help_text="True when any priced holding uses a simulated price."
    )
    sources = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Holdings priced per source, e.g. {"binance": 2, "mock": 1}.',
    )


class PortfolioSummarySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    stale_after_seconds = serializers.CharField()
    holdings = HoldingValuationSerializer(many=True)
    unpriced = serializers.ListField(
        child=serializers.CharField(), help_text="Held symbols without a price."
    )
    totals = PortfolioTotalsSerializer()


class HistoryPointSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    value = serializers.CharField(
        allow_null=True, help_text="Null: no market data for this moment (a gap)."
    )
    simulated = serializers.BooleanField(
        help_text="True when this total rested on simulated prices."
    )
    source = serializers.CharField(
        allow_null=True,
        help_text="Where the prices came from: an exchange (binance, coinbase, "
        "kraken, several joined by +), ledger (nothing held), snapshot, "
        "simulated; null for a gap.",
    )
    net_invested = serializers.CharField(
        allow_null=True,
        help_text="Money put in minus money taken out so far (buys at cost, "
        "sells at proceeds, transfers at their value); null for snapshots.",
    )
    performance = serializers.CharField(
        allow_null=True, help_text="value - net_invested: the gain net of flows."
    )
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Held symbols without a price here."
    )


HISTORY_RANGES = ["1h", "24h", "7d", "30d", "1y", "all"]


class HistoryQuerySerializer(serializers.Serializer):
    range = serializers.ChoiceField(choices=HISTORY_RANGES, default="24h")


class PriceHistoryQuerySerializer(HistoryQuerySerializer):
    symbol = serializers.CharField(validators=[validate_symbol])


class HistorySummarySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    value_start = serializers.CharField()
    value_end = serializers.CharField()
    net_flows = serializers.CharField(allow_null=True)
    performance = serializers.CharField(
        allow_null=True,
        help_text="Value change over the range minus the money put in (net of "
        "deposits and withdrawals).",
    )


class PortfolioHistorySerializer(serializers.Serializer):
    range = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    basis = serializers.ChoiceField(choices=["ledger", "snapshots"])
    interval = serializers.CharField(allow_null=True)
    market_data = serializers.BooleanField()
    note = serializers.CharField(allow_null=True)
    summary = HistorySummarySerializer(allow_null=True)
    points = HistoryPointSerializer(many=True)


class PricePointSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField(help_text="The candle's close time.")
    close = serializers.CharField(allow_null=True)
    source = serializers.CharField(allow_null=True)


class PriceHistorySerializer(serializers.Serializer):
    symbol = serializers.CharField()
    range = serializers.CharField()
    interval = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    market_data = serializers.BooleanField()
    note = serializers.CharField(allow_null=True)
    points = PricePointSerializer(many=True)


class PriceSerializer(PriceStatusSerializer):
    symbol = serializers.CharField()
    price = _dec("Null when not priced yet.")
    change_24h = _dec()
    change_percent_24h = _dec()
    volume_24h = _dec()


class ConnectionsSerializer(serializers.Serializer):
    clients = serializers.IntegerField(help_text="WebSocket clients on every server.")
    rooms = serializers.DictField(child=serializers.IntegerField())
    this_process = serializers.IntegerField()


class StreamsStatusSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    note = serializers.CharField(allow_null=True)
    status = serializers.DictField(allow_null=True)
    connections = ConnectionsSerializer()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(required=False)
    password = serializers.CharField(
        required=False, style={"input_type": "password"}, trim_whitespace=False
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    created = serializers.BooleanField()


class TokenStateSerializer(serializers.Serializer):
    exists = serializers.BooleanField()
    created = serializers.DateTimeField(
        allow_null=True, help_text="When the token was made (its key is never shown)."
    )
