"""`ControlPlane`: what the control API acts on besides the APIs' states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .faults import FaultRules
from .journal import Journal


@dataclass
class ControlPlane:
    """What the control API acts on besides the APIs' states: journal, fault rules, state file."""

    token: str | None = None
    journal: Journal = field(default_factory=Journal)
    faults: FaultRules = field(default_factory=FaultRules)
    store: Any = None  # the state file (persistence.StateDatabase), if any
    runtimes: list = field(default_factory=list)  # the mounted APIs' runtimes (what reset, seed, state act on)
    sessions: Any = None  # sessions.Sessions: the worlds besides the default one
