"""Proactive notifications: rules (what to tell whom, when), preferences, wording."""
