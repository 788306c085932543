"""Word tables of the rule parser: numbers, units, calendar names, zones, synonyms.

Everything here is plain data so that the grammar modules stay readable and a
new synonym is a one-line change.
"""

from __future__ import annotations

from typing import Final, Literal

Priority = Literal["low", "normal", "high", "urgent"]

#: Casual spellings read as the canonical word (the token keeps its original text).
ALIASES: Final[dict[str, str]] = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tomorow": "tomorrow",
    "tommorow": "tomorrow", "tommorrow": "tomorrow", "tomoz": "tomorrow", "2moro": "tomorrow",
    "2morrow": "tomorrow", "2mrw": "tomorrow", "tonite": "tonight", "2nite": "tonight",
    "tdy": "today", "2day": "today", "nxt": "next", "thru": "until", "till": "until",
    "til": "until", "'til": "until", "through": "until", "pls": "please", "plz": "please",
    "u": "you", "every1": "everyone", "mins": "minutes", "hrs": "hours", "secs": "seconds",
    "wks": "weeks", "yrs": "years", "mths": "months", "mos": "months", "ev": "every",
    "midday": "noon", "lunchtime": "noon", "eob": "eod", "cob": "eod", "eom": "eom",
    "todo": "todo", "to-do": "todo", "re-run": "rerun", "whats": "what's", "wats": "what's",
    "o'clock": "oclock", "a.m.": "am", "p.m.": "pm",
    "fortnightly": "biweekly", "bi-weekly": "biweekly", "semimonthly": "semimonthly",
    "annually": "yearly", "anually": "yearly",
}

NUMBER_WORDS: Final[dict[str, int]] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1, "single": 1, "couple": 2,
    "few": 3, "several": 3, "dozen": 12,
}

ORDINAL_WORDS: Final[dict[str, int]] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "last": -1,
    "penultimate": -2,
}

#: Units of "in N units" / "every N units", in seconds (months/years handled apart).
UNIT_SECONDS: Final[dict[str, int]] = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
    "fortnight": 1209600, "fortnights": 1209600,
}
MONTH_UNITS: Final[frozenset[str]] = frozenset({"mo", "mth", "month", "months"})
YEAR_UNITS: Final[frozenset[str]] = frozenset({"y", "yr", "year", "years"})

#: Weekday names → 0 (Monday) … 6; the short forms that are also English words
#: ("sat", "sun", "wed", "mon") are only read in a calendar context.
WEEKDAYS: Final[dict[str, int]] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "tue": 1, "tues": 1, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
}
WEEKDAYS_CONTEXTUAL: Final[dict[str, int]] = {"mon": 0, "wed": 2, "weds": 2, "sat": 5, "sun": 6}
RRULE_DAYS: Final[tuple[str, ...]] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

MONTHS: Final[dict[str, int]] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}

#: Parts of the day → (hour, minute); "midnight" is 24:00, i.e. 00:00 of the next day.
PARTS_OF_DAY: Final[dict[str, tuple[int, int]]] = {
    "morning": (9, 0), "noon": (12, 0), "lunch": (12, 0), "afternoon": (15, 0),
    "evening": (18, 0), "tonight": (20, 0), "night": (20, 0), "midnight": (24, 0),
    "eod": (17, 0), "dawn": (6, 0),
}

#: Zone abbreviations and city names written after a time → IANA names.
ZONES: Final[dict[str, str]] = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles", "mst": "America/Denver", "mdt": "America/Denver",
    "mt": "America/Denver", "mountain": "America/Denver", "cst": "America/Chicago",
    "cdt": "America/Chicago", "ct": "America/Chicago", "central": "America/Chicago",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "eastern": "America/New_York", "cet": "Europe/Berlin", "cest": "Europe/Berlin",
    "bst": "Europe/London", "wet": "Europe/Lisbon", "eet": "Europe/Athens",
    "ist": "Asia/Kolkata", "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "sgt": "Asia/Singapore",
    "hkt": "Asia/Hong_Kong", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland", "msk": "Europe/Moscow",
    "brt": "America/Sao_Paulo", "akst": "America/Anchorage", "hst": "Pacific/Honolulu",
}
#: "<city> time": the city may be one or two words.
CITY_ZONES: Final[dict[str, str]] = {
    "london": "Europe/London", "uk": "Europe/London", "dublin": "Europe/Dublin",
    "lisbon": "Europe/Lisbon", "paris": "Europe/Paris", "berlin": "Europe/Berlin",
    "amsterdam": "Europe/Amsterdam", "madrid": "Europe/Madrid", "rome": "Europe/Rome",
    "zurich": "Europe/Zurich", "vienna": "Europe/Vienna", "prague": "Europe/Prague",
    "warsaw": "Europe/Warsaw", "stockholm": "Europe/Stockholm", "oslo": "Europe/Oslo",
    "copenhagen": "Europe/Copenhagen", "helsinki": "Europe/Helsinki",
    "athens": "Europe/Athens", "istanbul": "Europe/Istanbul", "moscow": "Europe/Moscow",
    "brussels": "Europe/Brussels", "kyiv": "Europe/Kyiv", "new york": "America/New_York",
    "nyc": "America/New_York", "ny": "America/New_York", "boston": "America/New_York",
    "toronto": "America/Toronto", "chicago": "America/Chicago", "denver": "America/Denver",
    "los angeles": "America/Los_Angeles", "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles", "vancouver": "America/Vancouver",
    "mexico city": "America/Mexico_City", "sao paulo": "America/Sao_Paulo",
    "buenos aires": "America/Argentina/Buenos_Aires", "tokyo": "Asia/Tokyo",
    "seoul": "Asia/Seoul", "beijing": "Asia/Shanghai", "shanghai": "Asia/Shanghai",
    "hong kong": "Asia/Hong_Kong", "singapore": "Asia/Singapore", "india": "Asia/Kolkata",
    "delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata", "kolkata": "Asia/Kolkata", "dubai": "Asia/Dubai",
    "bangkok": "Asia/Bangkok", "jakarta": "Asia/Jakarta", "manila": "Asia/Manila",
    "tel aviv": "Asia/Jerusalem", "sydney": "Australia/Sydney",
    "melbourne": "Australia/Melbourne", "auckland": "Pacific/Auckland",
    "cairo": "Africa/Cairo", "lagos": "Africa/Lagos", "nairobi": "Africa/Nairobi",
    "johannesburg": "Africa/Johannesburg", "utc": "UTC", "gmt": "UTC",
    "pacific": "America/Los_Angeles", "eastern": "America/New_York",
    "central": "America/Chicago", "mountain": "America/Denver",
}

PRIORITY_WORDS: Final[dict[str, Priority]] = {
    "urgent": "urgent", "critical": "urgent", "asap": "urgent", "blocker": "urgent",
    "p0": "urgent", "important": "high", "high": "high", "p1": "high", "medium": "normal",
    "normal": "normal", "p2": "normal", "low": "low", "p3": "low", "whenever": "low",
}

#: Words that name the thread's own task rather than a specific one.
THIS_WORDS: Final[frozenset[str]] = frozenset(
    {"it", "this", "that", "this one", "that one", "this task", "that task", "this reminder",
     "that reminder", "the task", "the reminder"}
)
