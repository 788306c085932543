"""Analytics over history: pure functions, no I/O."""
