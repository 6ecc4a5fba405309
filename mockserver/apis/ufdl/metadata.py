"""DRF's answer to OPTIONS: the view's metadata (`SimpleMetadata`) and the `Allow` list.

`{"name", "description", "renders", "parses"}` — the name is the view's (the spec's summary of
the path's first operation stands in for it), the media types are those the path's operations
answer in and take.
"""

from __future__ import annotations

from ...api import Reply
from ...router import PathEntry


def describe_path(entry: PathEntry) -> Reply:
    operations = list(entry.operations.values())
    parses: list[str] = []
    renders: list[str] = []
    for op in operations:
        parses.extend(t for t in op.body_media_types if t not in parses)
        renders.extend(t for t in op.response_media_types if t not in renders)
    summary = next((op.raw.get("summary") for op in operations if op.raw.get("summary")), entry.template)
    body = {"name": summary, "description": "", "renders": renders, "parses": parses}
    return Reply(200, body, {"Allow": ", ".join(entry.allowed)})
