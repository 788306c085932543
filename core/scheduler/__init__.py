"""The scheduler core: the engine (fires), the worker pool (runs) and their wiring."""
