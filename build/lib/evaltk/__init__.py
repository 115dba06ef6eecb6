"""evaltk: pre-registered evaluation of street triage and control-room nurses."""

__version__ = "0.1.0"
