"""What the conversation remembers between messages, in the database.

Keyed by workspace, place (a DM, a channel, a thread) and person, and
expiring (ten minutes by default): the task a person last discussed somewhere
(what "it" means), the reminder that last fired there (what "snooze" means),
the question Kairos asked them and is waiting for an answer to, a reading of
theirs waiting for "yes", their last change (what "undo" reverts), and the
language they last spoke (every reply to them is in it, for a month).
Restarts and other replicas see the same memory; another person in the same
channel never completes someone else's question.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from core.batching import GroupCommit
from core.ports import Clock
from core.store import Remembered, SqlStore

#: How long Kairos remembers a question, a proposal or what "it" is.
DEFAULT_TTL = timedelta(minutes=10)
#: How long "snooze" still means the reminder that fired last.
FIRED_TTL = timedelta(hours=2)
#: How long Kairos remembers the language a person speaks.
LANGUAGE_TTL = timedelta(days=30)
#: A reminder posted to a channel may be snoozed by anyone there.
EVERYONE = "*"

DISCUSSED = "discussed"
FIRED = "fired"
ASKED = "asked"
PROPOSAL = "proposal"
CHANGE = "change"
LANGUAGE = "language"


class ConversationMemory:
    """Short-lived conversation memory per workspace, place and person."""

    def __init__(self, *, store: SqlStore, clock: Clock, ttl: timedelta = DEFAULT_TTL) -> None:
        self._store = store
        self._clock = clock
        self.ttl = ttl
        # A burst of reminders is remembered in a few statements, not two each.
        self._fired = GroupCommit(self._remember_fired, name="kairos-fired-memory")

    async def _put(
        self,
        kind: str,
        *,
        workspace_id: int,
        place: str,
        person: str,
        task_id: int | None = None,
        payload: dict[str, Any] | None = None,
        ttl: timedelta | None = None,
    ) -> None:
        await self._store.remember_state(
            workspace_id=workspace_id,
            place=place,
            person=person,
            kind=kind,
            task_id=task_id,
            payload=payload,
            expires_at=self._clock.now() + (ttl or self.ttl),
        )

    async def _get(
        self, kind: str, *, workspace_id: int, place: str, person: str, take: bool = False
    ) -> tuple[int | None, dict[str, Any] | None] | None:
        now = self._clock.now()
        found = await self._store.recall_state(
            workspace_id=workspace_id, place=place, person=person, kind=kind, now=now
        )
        if take:
            await self._store.forget_state(
                workspace_id=workspace_id, place=place, person=person, kind=kind, now=now
            )
        if found is None:
            return None
        return found.task_id, (dict(found.payload) if found.payload is not None else None)

    # --- "it" and "snooze" -----------------------------------------------------

    async def discussed(self, *, workspace_id: int, place: str, person: str, task_id: int) -> None:
        await self._put(
            DISCUSSED, workspace_id=workspace_id, place=place, person=person, task_id=task_id
        )

    async def last_discussed(self, *, workspace_id: int, place: str, person: str) -> int | None:
        for who in (person, EVERYONE):
            found = await self._get(DISCUSSED, workspace_id=workspace_id, place=place, person=who)
            if found is not None:
                return found[0]
        return None

    async def reminder_fired(
        self, *, workspace_id: int, place: str, person: str | None, task_id: int
    ) -> None:
        """A reminder was posted here (to ``person``, or to everyone in the place)."""
        who = person or EVERYONE
        now = self._clock.now()
        await self._fired.submit(
            (
                Remembered(workspace_id, place, who, FIRED, now + FIRED_TTL, task_id),
                Remembered(workspace_id, place, who, DISCUSSED, now + self.ttl, task_id),
            )
        )

    async def _remember_fired(self, fired: Sequence[tuple[Remembered, Remembered]]) -> list[None]:
        await self._store.remember_states([m for pair in fired for m in pair])
        return [None] * len(fired)

    async def last_fired(self, *, workspace_id: int, place: str, person: str) -> int | None:
        for who in (person, EVERYONE):
            found = await self._get(FIRED, workspace_id=workspace_id, place=place, person=who)
            if found is not None:
                return found[0]
        return None

    # --- questions, proposals, undo ------------------------------------------------

    async def ask(
        self, *, workspace_id: int, place: str, person: str, question: dict[str, Any]
    ) -> None:
        """Remember a question asked to ``person`` here (only they can answer it)."""
        await self._put(
            ASKED, workspace_id=workspace_id, place=place, person=person, payload=question
        )

    async def take_question(
        self, *, workspace_id: int, place: str, person: str
    ) -> dict[str, Any] | None:
        """The open question of this person here, forgotten as it is read."""
        found = await self._get(
            ASKED, workspace_id=workspace_id, place=place, person=person, take=True
        )
        return found[1] if found is not None else None

    async def propose(
        self, *, workspace_id: int, place: str, person: str, proposal: dict[str, Any]
    ) -> None:
        """Keep a reading (or an action) that waits for this person's "yes"."""
        await self._put(
            PROPOSAL, workspace_id=workspace_id, place=place, person=person, payload=proposal
        )

    async def take_proposal(
        self, *, workspace_id: int, place: str, person: str
    ) -> dict[str, Any] | None:
        found = await self._get(
            PROPOSAL, workspace_id=workspace_id, place=place, person=person, take=True
        )
        return found[1] if found is not None else None

    async def changed(
        self, *, workspace_id: int, person: str, task_id: int, undo: dict[str, Any]
    ) -> None:
        """Remember how to revert this person's last change (any place)."""
        await self._put(
            CHANGE,
            workspace_id=workspace_id,
            place=EVERYONE,
            person=person,
            task_id=task_id,
            payload=undo,
        )

    async def take_change(
        self, *, workspace_id: int, person: str
    ) -> tuple[int | None, dict[str, Any] | None] | None:
        return await self._get(
            CHANGE, workspace_id=workspace_id, place=EVERYONE, person=person, take=True
        )

    # --- the language a person speaks ------------------------------------------------

    async def spoke(self, *, workspace_id: int, person: str, language: str) -> None:
        """``person`` wrote in ``language`` (ISO 639-1): replies follow it (any place)."""
        await self._put(
            LANGUAGE,
            workspace_id=workspace_id,
            place=EVERYONE,
            person=person,
            payload={"language": language},
            ttl=LANGUAGE_TTL,
        )

    async def language(self, *, workspace_id: int, person: str) -> str:
        """The language ``person`` last wrote in; English when unknown."""
        found = await self._get(LANGUAGE, workspace_id=workspace_id, place=EVERYONE, person=person)
        payload = found[1] if found is not None else None
        return str((payload or {}).get("language") or "en")
