"""The notification fixtures, shared with the worker's delivery drills."""

from tests.portfolio.notifications.conftest import (  # noqa: F401
    allow_private,
    fast_retries,
    make_alert,
    receiver,
    smtp,
    webhook,
)
