"""Fault rules: make matching requests slow, fail with a chosen status, or lose their connection.

Rules compose: every rule that matches a request fires (each by its own probability, each using
up one of its count), their latencies add up, and the first of them (in the order they were
added) that drops the connection or forces a status decides the outcome.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultRule:
    id: int
    method: str = "*"
    path: str = "*"
    api: str | None = None
    session: str | None = None  # only requests of this session (None: of any world)
    latency_ms: int | None = None
    status: int | None = None
    drop: bool = False
    probability: float = 1.0
    count: int | None = None  # remaining uses; None = unlimited
    hits: int = 0

    def matches(self, method: str, path: str, api: str | None, session: str | None = None) -> bool:
        return ((self.method == "*" or self.method.upper() == method)
                and fnmatch.fnmatchcase(path, self.path)
                and (self.api is None or self.api == api)
                and (self.session is None or self.session == session))

    def describe(self) -> str:
        effects = [f"{self.latency_ms} ms" if self.latency_ms else "", f"status {self.status}" if self.status else "",
                   "drop" if self.drop else ""]
        return f"#{self.id} {self.method} {self.path}: " + ", ".join(e for e in effects if e)

    def to_json(self) -> dict[str, Any]:
        data = {"id": self.id, "method": self.method, "path": self.path, "hits": self.hits, "drop": self.drop,
                "probability": self.probability}
        for key in ("api", "session", "latency_ms", "status", "count"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class FaultRules:
    rules: list[FaultRule] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def add(self, spec: dict[str, Any]) -> FaultRule:
        rule = FaultRule(id=next(self._ids), **spec)
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, path: str, api: str | None, session: str | None = None) -> list[FaultRule]:
        """Every rule that matches and fires (by its probability), in order; each uses up one of its count."""
        fired = []
        for rule in list(self.rules):
            if rule.matches(method, path, api, session) and self.rng.random() < rule.probability:
                rule.hits += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.rules.remove(rule)
                fired.append(rule)
        return fired
