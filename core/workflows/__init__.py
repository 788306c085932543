"""Dependency DAGs: trigger rules, propagation, release, reruns, templates, views.

The modules here are pure (graphs and run states in, decisions and text out)
except ``service``, which composes them with the store. The store applies the
release decision in the transaction that records a finishing run
(``core.store.release``).
"""
