"""Kairos in Slack: a slack-bolt ``AsyncApp`` adapter (see ``docs/slack.md``).

Start at ``build_slack`` (the factory the composition root calls). The pure
translation lives in ``inbound`` (Slack → ``Inbound``), ``blocks`` (``Reply`` →
Block Kit), ``modals`` and ``home``; ``contract`` lists what ``manifest.yml``
must declare.
"""

from bot.slack.surface import SlackSurface, build_slack, slack_configured

__all__ = ["SlackSurface", "build_slack", "slack_configured"]
