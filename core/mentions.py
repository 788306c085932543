"""The neutral mention form: how people and places are written inside Kairos.

Every chat platform has its own mention syntax — Slack ``<@U024BE7LH>``,
``<#C0123ABC|eng>``; Discord ``<@80351110224678912>``, ``<@!8035…>``, ``<#4177…>``,
``<@&…>``. ``core/`` reads none of them. Each adapter rewrites mentions at the
edge (``to_inbound``) into this one form, and back into its own syntax when it
renders a reply:

========================  ===============================  ==========================
what                      neutral form                     kept in the store as
========================  ===============================  ==========================
a person, by platform id  ``@`` + id: ``@U024BE7LH``,      ``Member.platform_user_id``
                          ``@80351110224678912``
a person, by name         ``@alice`` (as typed)            resolved by display name
a place, by platform id   ``#`` + id: ``#C0123ABC``,       ``Task.channel_ref``
                          ``#41771983423143937``
a place, by name          ``#eng`` (as typed)              the name as written
========================  ===============================  ==========================

Group mentions (Slack ``<!here>``, Discord ``@everyone``, role mentions) name no
one Kairos can assign a task to: adapters write them as plain words.
"""

from __future__ import annotations


def person(user_id: str) -> str:
    """The neutral mention of a person by platform user id."""
    return f"@{user_id}"


def place(channel_id: str) -> str:
    """The neutral mention of a channel (or thread) by platform id."""
    return f"#{channel_id}"


def bare(ref: str) -> str:
    """A member reference without its ``@``: ``@alice`` → ``alice``."""
    return ref.strip().lstrip("@").strip()
