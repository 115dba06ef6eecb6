"""``evaltk.load``: an analysis folder, validated, with how it stands against its registration."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaltk.episodes.forces import force_name
from evaltk.protocol import LoadedProtocol, load_protocol
from evaltk.protocol.spec import Protocol
from evaltk.registration import check_registration

if TYPE_CHECKING:
    from evaltk.api.results import Results

#: How a protocol stands against ``registration.json``, in words (RegistrationCheck.status).
REGISTRATION_WORDS = {
    "registered": "registered (matches registration.json)",
    "changed": "changed since registration: `evaltk amend` it, or run with exploratory=True",
    "unregistered": "not registered: `evaltk register` it, or run with exploratory=True",
    "broken": "registration.json fails verification: run with exploratory=True or repair it",
}


@dataclass(frozen=True)
class Analysis:
    """One analysis folder, its protocol validated (what :func:`evaltk.load` returns).

    Attributes
    ----------
    loaded : LoadedProtocol
        The protocol and the files it came from, exactly as ``evaltk run`` reads them.
    registration : str
        ``registered``, ``changed``, ``unregistered`` or ``broken``, when it was loaded.
    """

    loaded: LoadedProtocol
    registration: str

    @property
    def folder(self) -> Path:
        """The analysis folder (data paths resolve against it)."""
        return self.loaded.folder

    @property
    def protocol(self) -> Protocol:
        """The frozen protocol that a run fits."""
        return self.loaded.protocol

    @property
    def name(self) -> str:
        return self.folder.resolve().name

    def run(self, *, exploratory: bool = False, progress: Any = True) -> Results:
        """Run this analysis: :func:`evaltk.run` with this analysis."""
        from evaltk.api.results import run

        return run(self, exploratory=exploratory, progress=progress)

    def results(self) -> Results:
        """This analysis's results as last run: :func:`evaltk.read_results` of its folder."""
        from evaltk.api.results import read_results

        return read_results(self.folder)

    def _facts(self) -> list[tuple[str, str]]:
        protocol = self.protocol
        starts = ", ".join(
            f"{force_name(unit)} {start:%Y-%m}"
            for unit, start in sorted(protocol.intervention.start.items())
        )
        outcomes = ", ".join(
            f"{o.id} ({o.role})" if o.role == "primary" else o.id for o in protocol.outcomes
        )
        return [
            ("folder", str(self.folder)),
            ("design", protocol.design.kind),
            ("units", ", ".join(force_name(unit) for unit in protocol.units)),
            ("starts", starts or "none"),
            ("window", f"{protocol.window.start} to {protocol.window.end}"),
            ("data", str(protocol.data.path)),
            ("outcomes", outcomes),
            ("registration", REGISTRATION_WORDS.get(self.registration, self.registration)),
        ]

    def __repr__(self) -> str:
        lines = [f"Analysis {self.name!r}: {self.protocol.title}"]
        lines += [f"  {name}: {value}" for name, value in self._facts()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
            for name, value in self._facts()
        )
        return (
            f"<div><p><b>Analysis {html.escape(self.name)}</b>: "
            f"{html.escape(self.protocol.title)}</p><table>{rows}</table></div>"
        )


def load(path: str | Path) -> Analysis:
    """Load and validate an analysis, as ``evaltk validate`` and ``evaltk run`` do.

    Parameters
    ----------
    path : str or Path
        The analysis folder (holding ``analysis.yaml``) or the YAML file itself.

    Returns
    -------
    Analysis
        The validated protocol and how it stands against ``registration.json``; it shows
        itself as a short table in a notebook.

    Raises
    ------
    ProtocolError
        If the protocol does not validate (the message names the file, line and field).

    Examples
    --------
    >>> import evaltk as ev
    >>> analysis = ev.load("analyses/example-street-triage")  # doctest: +SKIP
    >>> analysis.protocol.design.kind  # doctest: +SKIP
    'its'
    """
    loaded = load_protocol(path)
    return Analysis(loaded, check_registration(loaded).status)
