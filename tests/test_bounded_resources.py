"""What a client can make the mock hold is bounded: journal memory (entries, bytes, body size), a
body shorter than its Content-Length (answered after the body timeout, not held), and a client
that never finishes its headers (its connection closed after the header timeout)."""

from __future__ import annotations

import asyncio
import time

from mockserver import MockConfig
from mockserver.control.journal import Journal
from mockserver.service import MockService
from mockserver.testing import MockTestServer


def test_the_journal_keeps_a_cut_body_and_says_so():
    journal = Journal(body_bytes=10)
    journal.record("POST", "/x", "", 400, 1.0, b"0123456789abcdef", None)
    entry = journal.entries()[0].to_json()
    assert entry["request_body"] == "0123456789…"
    assert journal.bytes < 1000


def test_the_journal_drops_its_oldest_entries_beyond_its_byte_cap():
    journal = Journal(capacity=1000, body_bytes=4096, max_bytes=100_000)
    for number in range(1000):
        journal.record("POST", f"/p/{number}", "", 401, 1.0, b"x" * 600_000, None)
    entries = journal.entries()
    assert journal.bytes <= 100_000 and 20 <= len(entries) <= 25
    assert entries[0].path == "/p/999"  # the newest are kept


def test_the_journal_keeps_its_entry_count():
    journal = Journal(capacity=3)
    for number in range(5):
        journal.record("GET", f"/{number}", "", 200, 1.0, None, None)
    assert [e.path for e in journal.entries()] == ["/4", "/3", "/2"]


async def served(**settings) -> MockTestServer:
    server = MockTestServer(MockService(MockConfig(demo_data=False, access_log=False, **settings)))
    await server.start_server()
    return server


async def answer_of(port: int, data: bytes, wait: float) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(data)
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(65536), timeout=wait)
    finally:
        writer.close()
    return answer, time.monotonic() - started


async def test_a_body_shorter_than_its_content_length_gets_a_400_after_the_body_timeout():
    server = await served(body_timeout=0.5)
    try:
        testiny, took = await answer_of(server.port, b"POST /api/v1/project HTTP/1.1\r\nHost: x\r\n"
                                        b"X-Api-Key: testiny-mock-demo-key\r\nContent-Type: application/json\r\n"
                                        b"Content-Length: 100\r\n\r\n{\"name\":", wait=5)
        assert testiny.startswith(b"HTTP/1.1 400") and b'"code":"API_INVALID_INPUT"' in testiny, testiny[:300]
        assert b"did not arrive within 0.5 s" in testiny and 0.4 < took < 3
        ufdl, _ = await answer_of(server.port, b"POST /v1/auth/obtain HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{", wait=5)
        assert ufdl.startswith(b"HTTP/1.1 400") and b'{"detail":"The request body of 50 bytes did not' in ufdl
    finally:
        await server.close()


async def test_a_client_that_never_finishes_its_headers_is_disconnected():
    server = await served(header_timeout=0.6)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        writer.write(b"GET /api/v1/pro")
        for _ in range(20):  # a byte every 0.1 s: slow, but never idle
            await asyncio.sleep(0.1)
            writer.write(b"j")
            if reader.at_eof():
                break
        closed = await asyncio.wait_for(reader.read(), timeout=5)
        assert closed == b"" and time.monotonic() - started < 1.6
        writer.close()
    finally:
        await server.close()
