"""``kairos`` sub-commands, one module per group, each with ``register(app)``."""
