"""Event triggers: the neutral event model, signing, durable delivery, conditions.

A source (webhook, PostgreSQL channel or table, watched directory, condition,
another task) records an ``EventIn`` through the event store — committed before
the source is acknowledged — and the ``EventDispatcher`` turns stored events into
one run per subscribed task. A task subscribes by an ``event`` schedule part
naming the source (``webhook:deploy``); see ``docs/events.md``.
"""
