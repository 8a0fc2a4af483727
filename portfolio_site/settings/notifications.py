"""Settings of the notification outbox: e-mail, webhooks, Apprise, retries.

Part of the settings package (portfolio_site.settings): every environment read
of the project stays in these modules.
"""

from __future__ import annotations

import environ

env = environ.Env()

# --- Notifications (portfolio/notifications, worker: portfolio/live/deliveries.py)
# E-mail through Django's framework: EMAIL_URL such as smtp+tls://user:pw@host:587;
# unset, the console backend prints mails, so embedded mode works as it is.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alerts@localhost")
# Seconds for each connect/read of a webhook, Apprise or SMTP send: a dead
# receiver costs one delivery slot this long, never the price path.
NOTIFY_TIMEOUT = env.float("NOTIFY_TIMEOUT", default=5.0)
EMAIL_TIMEOUT = NOTIFY_TIMEOUT
# Off by default (server-side request forgery): webhook and Apprise targets on
# private, loopback or link-local addresses are refused unless this is 1.
NOTIFY_ALLOW_PRIVATE_ADDRESSES = env.bool(
    "NOTIFY_ALLOW_PRIVATE_ADDRESSES", default=False
)
# Retries: attempt n waits min(MAX, BASE * 2^(n-1)) * a jitter in [0.5, 1];
# the defaults make 8 attempts over at least 20 minutes.
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=8)
NOTIFY_RETRY_BASE_SECONDS = env.float("NOTIFY_RETRY_BASE_SECONDS", default=10.0)
NOTIFY_RETRY_MAX_SECONDS = env.float("NOTIFY_RETRY_MAX_SECONDS", default=600.0)
# A claimed delivery is nobody else's for this long (a killed worker's claim
# expires after it); longer than a send can take.
NOTIFY_LEASE_SECONDS = env.float("NOTIFY_LEASE_SECONDS", default=60.0)
NOTIFY_CONCURRENCY = env.int("NOTIFY_CONCURRENCY", default=4)
NOTIFY_POLL_SECONDS = env.float("NOTIFY_POLL_SECONDS", default=1.0)
NOTIFY_MAX_CHANNELS_PER_USER = env.int("NOTIFY_MAX_CHANNELS_PER_USER", default=10)
