"""Replies in the speaker's language, for what Kairos says in fixed words.

When Claude reads a message it also reports the message's language (ISO 639-1).
Kairos then says its fixed lead words ("Got it", "Updated", "Sorry, I didn't
understand …") in that language. The description of the task that follows
(dates, people, channels) keeps Kairos's own format: it is computed by Kairos,
never written by the model, so it can never confirm something that will not
happen. Languages without an entry here get English.
"""

from __future__ import annotations

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "Got it": "Verstanden",
        "Updated": "Geändert",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Das habe ich leider nicht verstanden. Sag 'help', um zu sehen, was ich kann."
        ),
    },
    "es": {
        "Got it": "Entendido",
        "Updated": "Actualizado",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Lo siento, no lo entendí. Escribe 'help' para ver lo que puedo hacer."
        ),
    },
    "fr": {
        "Got it": "C'est noté",
        "Updated": "Modifié",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Désolé, je n'ai pas compris. Écris 'help' pour voir ce que je sais faire."
        ),
    },
    "it": {
        "Got it": "Fatto",
        "Updated": "Aggiornato",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Scusa, non ho capito. Scrivi 'help' per vedere cosa so fare."
        ),
    },
    "pt": {
        "Got it": "Entendido",
        "Updated": "Atualizado",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Desculpe, não entendi. Escreva 'help' para ver o que eu sei fazer."
        ),
    },
    "nl": {
        "Got it": "Begrepen",
        "Updated": "Bijgewerkt",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Sorry, dat begreep ik niet. Zeg 'help' om te zien wat ik kan."
        ),
    },
}


def say(words: str, language: str) -> str:
    """``words`` in ``language`` when Kairos knows them there, else as they are."""
    return _WORDS.get(language, {}).get(words, words)
