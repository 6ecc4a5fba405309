"""The control API under /__mock__/ (spec: openapi/control.yaml), served by the same engine.

Health, reset, seed loading, a state dump, the request journal, fault rules and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..api import ApiDefinition
from .faults import FaultRules
from .handlers import HANDLERS, authenticate, render_error
from .journal import Journal

CONTROL_PREFIX = "/__mock__"


@dataclass
class ControlPlane:
    """What the control API acts on besides the APIs' states: journal, fault rules, state file."""

    token: str | None = None
    journal: Journal = field(default_factory=Journal)
    faults: FaultRules = field(default_factory=FaultRules)
    store: Any = None  # the state file (persistence.StateDatabase), if any
    runtimes: list = field(default_factory=list)  # the mounted APIs' runtimes (what reset, seed, state act on)
    sessions: Any = None  # sessions.Sessions: the worlds besides the default one


def control_definition(plane: ControlPlane) -> ApiDefinition:
    return ApiDefinition(
        name="control",
        spec_file="control.yaml",
        handlers=HANDLERS,
        create_state=lambda options, seed: plane,
        render_error=render_error,
        authenticate=authenticate,
        optional_trailing_slash=True,
    )


__all__ = ["CONTROL_PREFIX", "ControlPlane", "control_definition"]
