"""The safety guard: no request of the suite can change a record the run did not create.

Every request the suite sends — scenarios, schemathesis cases and the checks that re-send them,
stateful steps, the cleanup — goes through a `GuardedSession`, which looks at the request as it
will go on the wire (method, path, query, decoded body) before sending it:

* reads (GET/HEAD/OPTIONS, and the POST operations an API uses for reading: lists, finds, auth)
  always pass;
* any other request passes only if every record it refers to is the run's own or cannot exist.
  A reference is anything a lenient server could read as an id: a path segment under a
  collection (`/v1/projects/1.5` could mean 1), body fields such as UFDL's `team` and
  `username` or Testiny's `id`, Testiny's `ids` query. Numbers are read the way lenient parsers
  read them (`" 12abc"` → 12, `1.9` → 1, `"1e3"` → 1 and 1000, `true` → 1);
* with `--read-only`, nothing is created and only records that cannot exist are referred to.

A request that fails these rules is not sent: `UnsafeRequest` is raised instead. Request
preparation (`make_safe`) rewrites generated values to the run's own records first, so the
guard is the backstop that makes the rule hold even where preparation missed a case; what it held
back is counted and listed in the summary.
"""

from __future__ import annotations

import email.parser
import functools
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from .cleanup import REGISTRY
from .settings import SETTINGS

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # the safe methods of RFC 9110 §9.2.1
LARGEST_ID = 2**63 - 1  # beyond any 64-bit key: such an id cannot exist
_LEADING_INTEGER = re.compile(r"^(\s*[+-]?)(\d+)")  # what int()/parseInt read of a string


class UnsafeRequest(Exception):
    """The suite was about to send a request that could change a record it did not create."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {reason}")
        self.label = label
        self.reason = reason


@dataclass(frozen=True)
class Policy:
    """What one API's requests refer to (the suite's knowledge of the API, not of the spec).

    `collections` maps a path prefix (after the API's base path) to the kind of record its id
    segments name; `body_fields` maps a body field to (kind, role) — role "target" (the record
    changed) or "container" (where a record is put: a team given with --team may be used so);
    `query_lists` maps a query parameter holding comma-separated ids to a kind; `list_items`
    is the kind of bare numbers in a JSON array body."""

    api: str
    collections: Mapping[str, str]
    body_fields: Mapping[str, tuple[str, str]]
    read_operations: frozenset[tuple[str, str]]  # (METHOD, template) of POSTs that only read
    create_operations: frozenset[tuple[str, str]]
    account_creates: frozenset[tuple[str, str]] = frozenset()
    query_lists: Mapping[str, str] = field(default_factory=dict)
    list_items: str | None = None
    name_kinds: Mapping[str, str] = field(default_factory=dict)  # record kind -> kind of its names (users -> usernames)
    path_params: Mapping[str, str] = field(default_factory=dict)  # a template parameter naming another kind


@dataclass
class Ledger:
    """The requests held back, by (operation, reason), for the summary."""

    held: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, reason: str) -> None:
        with self.lock:
            self.held[(label, reason)] += 1

    def lines(self) -> list[str]:
        if not self.held:
            return []
        total = sum(self.held.values())
        lines = [f"safety guard: did not send {total} request(s) (nothing of others may change; --read-only "
                 "changes nothing):"]
        for (label, reason), count in sorted(self.held.items()):
            lines.append(f"  {count} x {label}: {reason}")
        return lines


HELD = Ledger()
_policies: dict[str, Policy] = {}
_absent_floors: dict[tuple[str, str], int] = {}
_granted: dict[tuple[str, str], set[int]] = {}


def register(policy: Policy) -> None:
    _policies[policy.api] = policy


def policy(api: str) -> Policy:
    return _policies[api]


def mark_absent_from(api: str, kind: str, floor: int) -> None:
    """Ids of `kind` from `floor` up are known not to exist (chosen beyond the highest visible one)."""
    _absent_floors[(api, kind)] = floor


def grant(api: str, kind: str, ident: int) -> None:
    """A record the user lent the run as a container (UFDL `--team`): records may be put in it."""
    _granted.setdefault((api, kind), set()).add(ident)


# -- reading values the way lenient servers read them -------------------------------------------

def numbers_in(value: Any, nested: bool = False) -> set[int]:
    """Every integer a lenient server could read out of `value`: an integer, the integer part of a
    float, the leading digits or float value of a string, `true` as 1; of an array its items, of
    an object its `id`/`pk` (one level deep: nobody reads an id out of deeper structures)."""
    if value is None:
        return set()
    if isinstance(value, bool):
        return {1} if value and not nested else set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, float):  # also as its text: multipart and form bodies send `repr`, e.g. "2.5e-205"
        return {int(value), *numbers_in(repr(value))} if math.isfinite(value) else set()
    if isinstance(value, str):
        found: set[int] = set()
        text = value.strip()
        match = _LEADING_INTEGER.match(text)
        if match:
            found.add(int(match.group(1).strip() + match.group(2)))
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                found.add(int(number))
        return found
    if nested:
        return set()
    if isinstance(value, Mapping):
        return set().union(*(numbers_in(value[k], True) for k in ("id", "pk") if k in value))
    if isinstance(value, (list, tuple)):
        return set().union(*(numbers_in(v, True) for v in value)) if value else set()
    return set()


def owned(api: str, kind: str) -> set[int]:
    return {i for i in REGISTRY.of(api, kind) if isinstance(i, int)}


def owned_names(api: str, record_kind: str) -> set[str]:
    return set(REGISTRY.of(api, record_kind).values())


def id_is_safe(api: str, kind: str, number: int, role: str = "target") -> bool:
    if number <= 0 or number > LARGEST_ID or number in owned(api, kind):
        return True
    if role == "container" and number in _granted.get((api, kind), set()):
        return True
    floor = _absent_floors.get((api, kind))
    return floor is not None and number >= floor


def name_is_safe(api: str, record_kind: str, value: Any) -> bool:
    """A name refers to no one else's record: ours, or prefixed with this run's (random) prefix."""
    if value is None or isinstance(value, (Mapping, list, tuple)):
        return True
    text = str(value).strip()
    return not text or text.startswith(SETTINGS.prefix) or text in owned_names(api, record_kind)


# -- making generated values safe (request preparation) -----------------------------------------

def make_safe(value: Any, api: str, kind: str, choose: Callable[[int], int], role: str = "target",
              avoid: frozenset[int] = frozenset()) -> Any:
    """`value` with every unsafe number replaced by `choose(number)` (one of the run's records, or an
    id that cannot exist), in the same JSON shape: an int stays an int, a float keeps its
    fraction, a string keeps its other characters. `true` cannot be made safe and stays. Numbers
    in `avoid` (records of the run that this request must leave alone) are replaced too."""
    def safe(number: int) -> bool:
        return number not in avoid and id_is_safe(api, kind, number, role)

    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if safe(value) else choose(value)
    if isinstance(value, float):
        if not math.isfinite(value) or all(safe(n) for n in numbers_in(value)):
            return value
        return float(choose(int(value))) + 0.25
    if isinstance(value, str):
        if all(safe(n) for n in numbers_in(value)):
            return value
        try:
            float(value.strip())
        except ValueError:
            return _LEADING_INTEGER.sub(lambda m: m.group(1) + str(choose(int(m.group(1).strip() + m.group(2)))),
                                        value, count=1)
        return str(choose(int(float(value))))  # "1.5", "1e3": a plain safe number of the same kind
    if isinstance(value, Mapping):
        return {k: make_safe(v, api, kind, choose, role, avoid) if k in ("id", "pk") and not isinstance(v, (Mapping, list))
                else v for k, v in value.items()}
    if isinstance(value, list):
        return [make_safe(v, api, kind, choose, role, avoid) if not isinstance(v, (Mapping, list)) else v
                for v in value]
    return value


# -- the guard ----------------------------------------------------------------------------------

@dataclass
class WireRequest:
    api: str
    method: str
    path: str  # after the API's base path, percent-decoded
    query: list[tuple[str, str]]
    body: Any  # decoded JSON / form / multipart fields, or None
    template: str | None  # the spec path template it matches
    refused: bool = False  # the scenario built it so that no server can act on it (malformed body)

    @property
    def label(self) -> str:
        return f"{self.method} {self.template or self.path}"


def check(request: WireRequest) -> None:
    """Raise UnsafeRequest unless `request` is safe to send (see the module docstring)."""
    p = _policies.get(request.api)
    if p is None:
        return
    key = (request.method, request.template)
    if request.method in READ_METHODS or key in p.read_operations:
        return
    if key in p.account_creates and not _accounts_allowed() and not request.refused:
        raise UnsafeRequest(request.label, "creates a user or team (not allowed on this target)")
    record_kinds = {name_kind: kind for kind, name_kind in p.name_kinds.items()}
    for kind, role, value, where in references(p, request):
        if kind in record_kinds and not isinstance(value, int):
            if not name_is_safe(request.api, record_kinds[kind], value):
                raise UnsafeRequest(request.label, f"{where} {value!r} may name someone else's record")
            continue
        unsafe = sorted(n for n in numbers_in(value) if not id_is_safe(request.api, kind, n, role))
        if unsafe:
            raise UnsafeRequest(request.label, f"{where} {value!r} may refer to {kind} {unsafe} of others")
    if SETTINGS.read_only and key in p.create_operations and not request.refused:
        raise UnsafeRequest(request.label, "creates a record (--read-only)")
    if SETTINGS.read_only and _refers_to_own(p, request):
        raise UnsafeRequest(request.label, "changes a record (--read-only)")


def _accounts_allowed() -> bool:
    return not SETTINGS.live or SETTINGS.allow_create_accounts


def _refers_to_own(p: Policy, request: WireRequest) -> bool:
    for kind, _role, value, _ in references(p, request):
        if kind in p.name_kinds.values() and not isinstance(value, int):
            continue
        if any(n in owned(request.api, kind) or n in _granted.get((request.api, kind), set()) for n in numbers_in(value)):
            return True
    return False


def references(p: Policy, request: WireRequest) -> Iterable[tuple[str, str, Any, str]]:
    """(kind, role, value, where) of everything in the request that could name a record."""
    literals = literal_segments(p.api)
    in_collection = False
    named = _template_params(request)
    for prefix, kind in p.collections.items():
        if request.path.startswith(prefix) or request.path == prefix.rstrip("/"):
            in_collection = True
            for index, segment in enumerate(request.path.split("/")):
                if index < prefix.count("/") or not segment or segment in literals:
                    continue
                if named.get(index) in p.path_params:
                    yield p.path_params[named[index]], "target", segment, f"path {named[index]}"
                else:
                    name_kind = p.name_kinds.get(kind)
                    if name_kind and not numbers_in(segment):
                        yield name_kind, "target", segment, "path segment"
                    else:
                        yield kind, "target", segment, "path segment"
            break
    for name, value in request.query:
        kind = p.query_lists.get(name)
        if kind:
            for part in value.split(","):
                yield kind, "target", part, f"query {name}"
    if not in_collection:
        return  # e.g. /v1/auth/*: its bodies name no record
    body = request.body
    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, Mapping):
            for name, (kind, role) in p.body_fields.items():
                if name in item:
                    yield kind, role, item[name], f"body {name}"
        elif p.list_items and isinstance(body, list) and not isinstance(item, (list, Mapping)):
            yield p.list_items, "target", item, "body item"


def _template_params(request: WireRequest) -> dict[int, str]:
    """Segment index -> parameter name, where the path matches a spec template."""
    if not request.template:
        return {}
    return {i: part[1:-1] for i, part in enumerate(request.template.split("/")) if part.startswith("{")}


@functools.cache
def literal_segments(api: str) -> frozenset[str]:
    """The fixed words of the API's spec paths (`list`, `hard`, ...): never an id."""
    from .target import spec_document

    return frozenset(s for template in spec_document(api)["paths"] for s in template.split("/") if s and "{" not in s)


# -- decoding what goes on the wire -------------------------------------------------------------

def decode_body(content_type: str, body: bytes | str | None) -> Any:
    if not body:
        return None
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        if media == "application/x-www-form-urlencoded":
            return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if media.startswith("multipart/"):
            message = email.parser.BytesParser().parsebytes(b"Content-Type: " + content_type.encode("latin-1")
                                                            + b"\r\n\r\n" + raw)
            fields = {}
            for part in message.walk() if message.is_multipart() else []:
                name = part.get_param("name", header="content-disposition")
                if name:
                    payload = part.get_payload(decode=True) or b""
                    fields[name] = payload.decode("utf-8", "replace")
            return fields
        return json.loads(raw)
    except (ValueError, UnicodeError, LookupError):
        return None  # not decodable: no server can read ids out of it either


def wire_request(api: str, base_path: str, prepared: requests.PreparedRequest, template: str | None) -> WireRequest:
    url = urlsplit(prepared.url or "")
    path = unquote(url.path)
    if base_path and path.startswith(base_path):
        path = path[len(base_path):]
    body = decode_body(prepared.headers.get("Content-Type", ""), prepared.body)
    refused = prepared.headers.get(REFUSED_HEADER) is not None
    return WireRequest(api, (prepared.method or "GET").upper(), path, parse_qsl(url.query, keep_blank_values=True),
                       body, template, refused)


REFUSED_HEADER = "X-Conformance-Refused"  # set by scenarios on requests no server can act on; never sent


class GuardedSession(requests.Session):
    """A requests session that checks each request against the guard before it is sent."""

    def __init__(self, api: str) -> None:
        super().__init__()
        self.api = api

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        from .client import Operations

        ops = Operations.of(self.api)
        template = ops.template_of(request.url or "")
        wire = wire_request(self.api, ops.base, request, template)
        request.headers.pop(REFUSED_HEADER, None)
        try:
            check(wire)
        except UnsafeRequest as exc:
            HELD.add(exc.label, exc.reason)
            import os
            if os.environ.get("GUARD_DEBUG"):
                print("HELD", exc, request.headers.get("Content-Type"), request.body[:300] if request.body else None)
            raise
        return super().send(request, **kwargs)
