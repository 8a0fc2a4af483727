"""Notifications: a user's channels, the durable outbox of deliveries, the senders.

``models`` (NotificationChannel, Delivery), ``safety`` (server-side request
forgery guard), ``channels`` (channel services), ``outbox`` (writing, claiming
and settling deliveries), ``payload`` (what is sent), ``senders`` (webhook,
e-mail, Apprise). The worker's delivery loop is ``portfolio.live.deliveries``.
"""
