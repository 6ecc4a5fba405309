"""The control API under /__mock__/ (spec: openapi/control.yaml), served by the same engine.

Health, reset, seed loading, a state dump, the request journal, fault rules and the dashboard.
"""

from __future__ import annotations

from ..api import ApiDefinition, HttpDialect
from .handlers import HANDLERS, authenticate, render_error
from .plane import ControlPlane

CONTROL_PREFIX = "/__mock__"


def control_definition(plane: ControlPlane) -> ApiDefinition:
    return ApiDefinition(
        name="control",
        spec_file="control.yaml",
        handlers=HANDLERS,
        create_state=lambda options, seed: plane,
        render_error=render_error,
        authenticate=authenticate,
        http=HttpDialect(optional_trailing_slash=True),
    )


__all__ = ["CONTROL_PREFIX", "ControlPlane", "control_definition"]
