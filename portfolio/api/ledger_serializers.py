"""API shapes of the ledger; amounts, prices and fees as exact decimal strings."""

from __future__ import annotations

from rest_framework import serializers

from ..ledger.csv_detect import FORMATS
from ..ledger.models import CostMethod, Transaction, TransactionKind
from ..validators import validate_not_absurd, validate_not_negative, validate_positive
from .serializers import DecimalString, SymbolField

NOT_NEGATIVE = [validate_not_negative, validate_not_absurd]


class TransactionSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=TransactionKind.choices)
    symbol = SymbolField()
    amount = DecimalString(
        help_text="Units: > 0, at most 10^15, 18 decimals.",
        validators=[validate_positive, validate_not_absurd],
    )
    price = DecimalString(
        required=False,
        allow_null=True,
        validators=NOT_NEGATIVE,
        help_text="USD per unit; required for buy and sell.",
    )
    fee = DecimalString(
        required=False,
        allow_null=True,
        validators=NOT_NEGATIVE,
        help_text="USD (default 0): adds to a buy's cost, reduces a sell's proceeds.",
    )
    total = DecimalString(
        required=False,
        allow_null=True,
        validators=NOT_NEGATIVE,
        help_text="Gross USD value before fees, when it is not amount x price.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default=""
    )

    class Meta:
        model = Transaction
        fields = [
            "id",
            "kind",
            "symbol",
            "amount",
            "price",
            "fee",
            "total",
            "executed_at",
            "note",
            "origin",
            "import_source",
            "import_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "origin",
            "import_source",
            "import_id",
            "created_at",
            "updated_at",
        ]
        validators: list = []

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        price = attrs.get("price", getattr(self.instance, "price", None))
        if kind in (TransactionKind.BUY, TransactionKind.SELL) and price is None:
            raise serializers.ValidationError(
                {"price": "A buy or sell needs a price (USD per unit)."}
            )
        return attrs


class TransactionFilterSerializer(serializers.Serializer):
    symbol = SymbolField(required=False)
    kind = serializers.ChoiceField(choices=TransactionKind.choices, required=False)
    since = serializers.DateTimeField(
        required=False, help_text="executed_at on or after (ISO-8601)."
    )
    until = serializers.DateTimeField(
        required=False, help_text="executed_at on or before (ISO-8601)."
    )

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": "Must not be before since."})
        return attrs


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file.")
    dry_run = serializers.BooleanField(
        default=False, help_text="Preview only: nothing is stored."
    )
    format = serializers.ChoiceField(
        choices=FORMATS, required=False, help_text="Detected when omitted."
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line in the file (1 = first line).")
    column = serializers.CharField()
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    format = serializers.CharField()
    dry_run = serializers.BooleanField()
    entries = serializers.IntegerField(help_text="Ledger entries the file holds.")
    created = serializers.IntegerField(help_text="New (would be new in a dry run).")
    duplicates = serializers.IntegerField(help_text="Already in the ledger.")
    skipped = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField())
    preview = serializers.ListField(child=serializers.DictField())


class LedgerSettingsSerializer(serializers.Serializer):
    cost_method = serializers.ChoiceField(
        choices=CostMethod.choices,
        help_text="fifo (default) or average: how a sell's cost is chosen.",
    )
