"""The alert engine: edge-triggered, cooldown, one-shot, persisted first, no doubles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portfolio import services
from portfolio.alerts import AlertEngine, alert_message
from portfolio.models import Alert, AlertKind, AlertRule
from tests.portfolio.helpers import price

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rule_for(user, **kwargs):
    defaults = {
        "kind": AlertKind.PRICE_ABOVE,
        "symbol": "BTC",
        "threshold": Decimal("65000"),
        "cooldown_seconds": 0,
    }
    return services.alert_rule_create(owner=user, **{**defaults, **kwargs})


def tick(engine, value, seconds, **kwargs):
    return engine.evaluate_price(
        price("BTC", value, now=at(seconds), **kwargs), now=at(seconds)
    )


def test_crossing_fires_once_and_stays_quiet_above(user):
    rule = rule_for(user)
    engine = AlertEngine()
    assert tick(engine, "64000", 0) == []
    fired = tick(engine, "65010.12", 1)
    assert len(fired) == 1
    assert fired[0].message == "BTC price 65,010.12 USD rose above 65,000 USD"
    assert fired[0].observed_value == Decimal("65010.12")
    assert fired[0].owner_id == user.pk
    for second in range(2, 6):
        assert tick(engine, "66000", second) == []
    assert Alert.objects.filter(rule=rule).count() == 1


def test_first_evaluation_above_counts_as_crossing(user):
    rule_for(user)
    assert len(tick(AlertEngine(), "70000", 0)) == 1


def test_fires_again_after_recrossing(user):
    rule_for(user)
    engine = AlertEngine()
    assert len(tick(engine, "66000", 0)) == 1
    assert tick(engine, "64000", 1) == []
    assert len(tick(engine, "66000", 2)) == 1
    assert list(
        Alert.objects.values_list("sequence", flat=True).order_by("sequence")
    ) == [
        1,
        2,
    ]


def test_cooldown_suppresses_recrossing_but_state_updates(user):
    rule = rule_for(user, cooldown_seconds=60)
    engine = AlertEngine()
    assert len(tick(engine, "66000", 0)) == 1
    assert tick(engine, "64000", 10) == []
    assert tick(engine, "66000", 20) == []  # inside cooldown: no alert
    rule.refresh_from_db()
    assert rule.last_condition_met is True  # ... but the state moved
    assert tick(engine, "66000", 70) == []  # still above: no new crossing
    assert tick(engine, "64000", 80) == []
    assert len(tick(engine, "66000", 90)) == 1  # after cooldown


def test_one_shot_rule_is_disabled_after_firing(user):
    rule = rule_for(user, one_shot=True)
    engine = AlertEngine()
    assert len(tick(engine, "66000", 0)) == 1
    rule.refresh_from_db()
    assert rule.enabled is False
    assert tick(engine, "64000", 1) == []
    assert tick(engine, "66000", 2) == []
    assert engine.rule_count == 0


def test_alert_row_is_written_before_return(user):
    rule = rule_for(user)
    alert = tick(AlertEngine(), "66000", 0)[0]
    stored = Alert.objects.get(pk=alert.pk)
    assert stored.rule_id == rule.pk and stored.sequence == 1
    rule.refresh_from_db()
    assert rule.trigger_count == 1
    assert rule.last_triggered_at == at(0)


def test_two_engines_racing_create_one_alert(user):
    rule_for(user)
    first, second = AlertEngine(), AlertEngine()
    first.reload()
    second.reload()  # both loaded the rule as "not met"
    assert len(tick(first, "66000", 0)) == 1
    assert tick(second, "66000", 0) == []
    assert Alert.objects.count() == 1


def test_duplicate_sequence_is_rejected_by_the_database(user):
    rule = rule_for(user)
    engine = AlertEngine()
    engine.reload()
    # Simulate a racing worker that already wrote sequence 1 but not the rule.
    Alert.objects.create(
        rule=rule,
        owner=user,
        kind=rule.kind,
        symbol="BTC",
        threshold=rule.threshold,
        message="x",
        observed_value=Decimal("1"),
        sequence=1,
        triggered_at=at(0),
    )
    assert tick(engine, "66000", 0) == []
    assert Alert.objects.count() == 1


def test_state_persisted_only_on_change(user, django_assert_num_queries):
    rule = rule_for(user)
    engine = AlertEngine()
    engine.reload()
    tick(engine, "64000", 0)  # None -> False: one UPDATE
    rule.refresh_from_db()
    assert rule.last_condition_met is False
    with django_assert_num_queries(0):
        for second in range(1, 5):
            tick(engine, "64000", second)


def test_below_and_change_rules(user):
    rule_for(user, kind=AlertKind.PRICE_BELOW, threshold=Decimal("60000"))
    rule_for(user, kind=AlertKind.CHANGE_PCT_BELOW, threshold=Decimal("-5"))
    engine = AlertEngine()
    fired = tick(engine, "59999.5", 0, change_pct="-5.25")
    messages = sorted(a.message for a in fired)
    assert messages == [
        "BTC 24h change -5.25% fell below -5%",
        "BTC price 59,999.5 USD fell below 60,000 USD",
    ]


def test_change_rule_without_change_in_price_is_not_evaluated(user):
    rule = rule_for(user, kind=AlertKind.CHANGE_PCT_ABOVE, threshold=Decimal("1"))
    tick(AlertEngine(), "1", 0)
    rule.refresh_from_db()
    assert rule.last_condition_met is None


def test_portfolio_rules_are_per_user(user, other_user):
    rule_for(user, kind=AlertKind.PORTFOLIO_ABOVE, symbol="", threshold=Decimal("1000"))
    engine = AlertEngine()
    assert engine.evaluate_portfolio(other_user.pk, Decimal("5000"), now=at(0)) == []
    fired = engine.evaluate_portfolio(user.pk, Decimal("1000.5"), now=at(0))
    assert [a.message for a in fired] == [
        "Portfolio value 1,000.5 USD rose above 1,000 USD"
    ]


def test_reload_picks_up_new_and_disabled_rules(user):
    engine = AlertEngine()
    engine.reload()
    rule = rule_for(user)
    assert tick(engine, "66000", 0) == []  # not loaded yet
    engine.reload()
    assert tick(engine, "64000", 1) == []
    services.alert_rule_update(rule=rule, data={"enabled": False})
    assert tick(engine, "66000", 2) == []  # stale memory, but the db says disabled
    assert Alert.objects.count() == 0
    engine.reload()
    assert engine.rule_count == 0


def test_changing_the_condition_rearms_the_rule(user):
    rule = rule_for(user)
    engine = AlertEngine()
    assert len(tick(engine, "66000", 0)) == 1
    services.alert_rule_update(rule=rule, data={"threshold": Decimal("65500")})
    rule.refresh_from_db()
    assert rule.last_condition_met is None
    engine.reload()
    assert len(tick(engine, "66000", 1)) == 1


def test_message_for_rule_without_db(user):
    rule = AlertRule(
        kind=AlertKind.CHANGE_PCT_ABOVE, symbol="ETH", threshold=Decimal("5")
    )
    assert alert_message(rule, Decimal("5.1")) == "ETH 24h change 5.1% rose above 5%"
