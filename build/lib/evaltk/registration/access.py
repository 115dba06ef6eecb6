"""The data-access statement of a registration, in the form OSF pre-registrations ask for.

A registration says what the analysts had seen of the data when they registered: the later
they registered, the more the reader must discount the claim that the analysis was planned
blind. The four codes follow OSF's "existing data" question.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

DataAccessCode = Literal[
    "not_collected", "collected_not_accessed", "accessed_outcomes_not_examined", "outcomes_examined"
]
DATA_ACCESS_CODES: tuple[str, ...] = get_args(DataAccessCode)

#: The statement printed for each code (the book and ``--help`` use these words).
DATA_ACCESS_WORDS: dict[str, str] = {
    "not_collected": "Registration before the data were collected: the data did not yet exist.",
    "collected_not_accessed": (
        "Registration after the data were collected but before anyone on the team accessed them."
    ),
    "accessed_outcomes_not_examined": (
        "Registration after the team accessed the data, but before any outcome was examined."
    ),
    "outcomes_examined": (
        "Registration after outcomes in the data had been examined (see the explanation)."
    ),
}


class DataAccess(BaseModel):
    """What the analysts had seen of the data when they registered (or amended).

    Parameters
    ----------
    status : str
        One of :data:`DATA_ACCESS_CODES`.
    explanation : str
        Free text; required for ``outcomes_examined`` (what was seen, and how the plan guards
        against it), optional otherwise.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: DataAccessCode
    explanation: str = Field(default="")

    @model_validator(mode="after")
    def _explained(self) -> DataAccess:
        if self.status == "outcomes_examined" and not self.explanation.strip():
            raise ValueError(
                "data access 'outcomes_examined' needs --explanation: say which outcomes were "
                "seen, by whom, and how the registered plan guards against what was seen"
            )
        return self

    @property
    def statement(self) -> str:
        """The statement in words, with the explanation appended when there is one."""
        words = DATA_ACCESS_WORDS[self.status]
        return f"{words} {self.explanation.strip()}".strip() if self.explanation else words
