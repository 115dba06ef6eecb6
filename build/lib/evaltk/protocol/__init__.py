"""Protocols: the YAML spec of an evaluation, validated into frozen models."""

from evaltk.protocol.load import LoadedProtocol, load_protocol
from evaltk.protocol.spec import Measure, Outcome, Protocol

__all__ = ["LoadedProtocol", "Measure", "Outcome", "Protocol", "load_protocol"]
