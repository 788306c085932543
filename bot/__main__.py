"""``python -m bot`` is the ``kairos`` command."""

from bot.cli import app

app()
