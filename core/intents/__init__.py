"""What people mean: the ``Intent`` model and the offline rule-based parser.

Public API (import from the modules; this package imports nothing eagerly so
that ``kairos parse`` starts fast):

* ``core.intents.model``: ``Intent``, ``IntentKind``, ``ParsedSchedule``.
* ``core.intents.rules``: ``RuleParser`` (implements ``core.ports.IntentParser``;
  ``RuleParser(date_order="DMY"|"MDY")`` sets how numeric dates are read).
* ``core.intents.specs``: ``to_spec(ParsedSchedule) -> ScheduleSpec`` for storage.

The grammar is split by noun: ``tokens`` (tokeniser), ``lexicon`` (word tables),
``words`` (number/weekday readers), ``times``/``hours``/``dates`` (one-off times),
``resolve`` (conventions → instants), ``recurrence``/``bounds`` (repeating rules),
``entities`` (people, channel, priority, prerequisites), ``assignment`` (assignment
clauses with bare names), ``numeric_dates`` ("3/12" by the workspace's date order,
``DateOrder``), ``questions`` (how-to and capability questions), ``actions`` (job actions
and events), ``classify`` (which intent), ``title``/``refs`` (names and task
references), ``signals`` (whole-message judgements, confidence).
"""
