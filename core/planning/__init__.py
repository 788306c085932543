"""AI-planned workflows: a plan of steps (``plan``), checked and turned into tasks (``service``)."""
