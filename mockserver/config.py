"""Settings of one mock server: a frozen dataclass built once (by the CLI or by tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class MockConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    apis: tuple[str, ...] = ()  # empty: every available API
    demo_data: bool = True  # False: start empty (the clean slate CI and conformance runs want)
    strict: bool = False  # validate every response against the spec; a mismatch becomes a loud 500
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    api_options: dict[str, Any] = field(default_factory=dict)  # per-API options objects
    seed_file: Path | None = None
    state_file: Path | None = None
    control: bool = True  # serve the control API under CONTROL_PREFIX
    control_token: str | None = None
    journal_entries: int = 1000  # the journal keeps at most this many requests...
    journal_bytes: int = 8 * 1024 * 1024  # ...holding at most this much in all...
    journal_body_bytes: int = 4096  # ...and of each body its first this many bytes
    max_sessions: int = 100  # at most this many sessions at a time (0: sessions off)
    session_idle: float = 1800.0  # seconds after which an unused session ends
    header_timeout: float = 10.0  # seconds to send a request's line and headers
    body_timeout: float = 30.0  # seconds to send a request's body (after its headers)
    access_log: bool = True
    log_level: str = "info"

    def options_for(self, api: str, default: Any) -> Any:
        return self.api_options.get(api, default)
