"""``EnglishCheck``: which messages the English rules may be trusted with."""

from __future__ import annotations

import pytest

from core.intents.language import EnglishCheck

CHECK = EnglishCheck()


@pytest.mark.parametrize(
    "text",
    [
        "remind #eng every weekday at 9:30 to post updates",
        "every night at 2 run backup.sh",
        # near ties among all languages, or short: still English
        "list reminders for @omar",
        "fix the CI",
        "run task 4 now",
        "todo: ship the hotfix asap",
        "remind me December 24th to buy a tree",
        # a title in another language, quoted: the person's own words are English
        "create task 'Bericht für Freitag abgeben' for @bob due tomorrow",
        # too short to show a language: as the rules always took it
        "ja bitte",
        "erledigt",
    ],
)
async def test_english_or_too_short_to_tell(text: str) -> None:
    assert await CHECK.is_english(text)


@pytest.mark.parametrize(
    "text",
    [
        "Erinnere mich morgen um 15 Uhr, den Bericht abzugeben",
        "recuérdame mañana a las 9 llamar a Ana",
        "rappelle-moi demain à 9h d'appeler Ana",
        "Zeig mir meine offenen Aufgaben",
        # German with English words: as a whole, or in one clause
        "Erinnere mich heute um 8 Uhr, Open the Due list",
        "Erinnere mich morgen, Check the Due dates of the board",
        # English words quoted out leave the German ones
        "Erstelle eine Aufgabe 'deploy the pricing page' für nächste Woche",
        # apostrophes are no quotes: nothing between two of them is left out
        "rappelle à l'équipe de finir le rapport aujourd'hui",
    ],
)
async def test_another_language(text: str) -> None:
    assert not await CHECK.is_english(text)
