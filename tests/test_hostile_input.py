"""Property test: whatever text and header bytes a client sends to any operation of any API (the
control API included), the mock answers below 500, and afterwards its state, journal and fault
rules still read (what the dashboard shows) and its state file loads back to exactly what memory
holds.

Inputs: every operation of every spec, path and query parameters and JSON bodies made of
arbitrary Unicode — lone surrogates, NUL, format and bidi characters, integers beyond 64 bits —
sent as JSON escapes, and one extra header of arbitrary bytes (or arbitrary bytes in one of the
headers the mock reads: Accept, Authorization, X-Api-Key, X-Mock-Token, X-Mock-Session, Cookie,
Origin), over a raw socket so that nothing is cleaned up on the way.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import quote

from broken_variants import serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockConfig, create_app
from mockserver.keys import RUNTIMES, SERVICE
from mockserver.persistence import StateDatabase, stored_form

KEY = "testiny-mock-demo-key"
SPECIALS = ["\ud800", "\udfff", "\udc80", "\x00", "\u200b", "\ufeff", "\u202e", "\u2028", "\ud83d\ude00", "é", "\\",
            '"', "%", "/", "..", " ", "\t", "\n"]
FIELDS = ["name", "team", "username", "password", "description", "project_key", "_etag", "id", "ids", "field",
          "value", "expressions", "filter", "path", "status", "permissions", "method", "email", "first_name",
          "order_by", "type", "latency_ms", "ufdl", "testiny", "projects", "teams", "users", "pagination", "q"]

texts = st.lists(st.one_of(st.characters(), st.sampled_from(SPECIALS)), max_size=12).map("".join)
scalars = st.one_of(texts, st.integers(min_value=-(2**80), max_value=2**80), st.booleans(), st.none(),
                    st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.sampled_from(FIELDS) | texts, inner,
                                                                       max_size=3)), max_leaves=8)
objects = st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=5)
bodies = st.one_of(objects, st.lists(objects, max_size=3), values.map(lambda v: v),
                   st.binary(max_size=40).map(lambda b: b))
header_bytes = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


def quote_text(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def send(port: int, method: str, target: str, headers: list[bytes], body: bytes | None) -> tuple[int, bytes]:
    lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close", *headers]
    if body is not None:
        lines += [b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n", 1)[0].split()
    return int(head[1]), data


def test_no_input_gets_a_5xx_or_breaks_a_later_read_or_the_state_file(tmp_path):
    path = tmp_path / "state.db"
    # sessions: more than the examples can name, so that a full mock (503, by design) never answers
    app = create_app(MockConfig(demo_data=True, strict=True, access_log=False, state_file=path, max_sessions=1000))
    service = app[SERVICE]
    runtimes = [*app[RUNTIMES], service.control]
    operations = sorted(((r.base_path, op) for r in runtimes for op in r.spec.operations.values()),
                        key=lambda pair: pair[1].operation_id)
    with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])

        def ufdl_token() -> bytes:
            status, data = send(port, "POST", "/v1/auth/obtain", [], b'{"username": "admin", "password": "admin"}')
            assert status == 200
            return b"Bearer " + json.loads(data.split(b"\r\n\r\n", 1)[1])["access"].encode()

        @settings(max_examples=400, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.sampled_from(operations), st.data())
        def probe(pair, data):
            base, operation = pair
            target = base + operation.path
            for param in operation.path_params:
                target = target.replace("{" + param.name + "}", quote_text(data.draw(texts, param.name)) or "x")
            query = [f"{p.name}={quote_text(data.draw(texts, p.name))}" for p in operation.query_params
                     if data.draw(st.booleans(), f"send {p.name}")]
            if query:
                target += "?" + "&".join(query)
            headers = [b"Authorization: " + ufdl_token(), b"X-Api-Key: " + KEY.encode()]
            where = data.draw(st.sampled_from(["extra", "Accept", "Authorization", "X-Api-Key", "X-Mock-Token",
                                               "X-Mock-Session", "Cookie", "Origin"]))
            odd = data.draw(header_bytes, "header bytes")
            if where == "extra":
                headers.append(b"X-Odd: " + odd)
            else:
                headers = [h for h in headers if not h.lower().startswith(where.lower().encode() + b":")]
                headers.append(where.encode() + b": " + odd)
            body = None
            if operation.body_media_types or data.draw(st.booleans(), "body anyway"):
                value = data.draw(bodies, "body")
                body = value if isinstance(value, bytes) else json.dumps(value).encode()  # escapes: \ud800
            status, answer = send(port, operation.method.upper(), target, headers, body)
            assert status < 500, answer[:600]
            for read in ("/__mock__/state", "/__mock__/journal?limit=50", "/__mock__/faults", "/__mock__/sessions",
                         "/__mock__/"):
                status, answer = send(port, "GET", read, [], None)
                assert status == 200, (read, answer[:600])
                if read != "/__mock__/":
                    json.loads(answer.split(b"\r\n\r\n", 1)[1])

        probe()
        saved = StateDatabase(path)
        for runtime in app[RUNTIMES]:
            tables, meta = saved.load(runtime.name)
            reloaded = runtime.definition.restore(runtime.options, tables, meta)
            assert stored_form(reloaded) == stored_form(runtime.state), runtime.name
        saved.close()
    assert all(not r.contract_violations for r in app[RUNTIMES])
