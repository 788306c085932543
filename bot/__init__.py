"""Kairos chat surfaces, the CLI and the composition root."""

__version__ = "0.1.0"
