"""The README's shell blocks that talk to a running mock (every block with curl in it; the others
install, start a server or run the suites) do what their comments say, pasted twice in a row into
a shell against a fresh mock with its demo data: every curl answers the status its comment names
(or a success where the comment names none)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from server_process import ServerProcess

README = Path(__file__).resolve().parent.parent / "README.md"
# every curl also writes its status to stderr (a -w given last wins over the line's own)
WRAPPER = 'curl() { command curl "$@" -w "%{stderr}@@%{http_code}\\n"; }\n'
SESSIONS = [block for block in re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
            if "curl " in block and not re.search(r"^mockserver ", block, re.M)]

pytestmark = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                                reason="needs curl and bash, as the README does")


def expected_statuses(block: str) -> list[str]:
    """Per curl call, in order: the status its comment starts with, else "ok" (any success)."""
    expected = []
    for line in block.replace("\\\n", " ").splitlines():
        if "curl " not in line:
            continue
        comment = line.rsplit(" # ", 1)[1].strip() if " # " in line else ""
        status = re.match(r"\d{3}\b", comment)
        expected.append(status.group() if status else "ok")
    return expected


def test_the_readme_blocks_that_call_the_mock_are_all_found():
    assert len(SESSIONS) == 6 and all(len(expected_statuses(s)) >= 2 for s in SESSIONS)


@pytest.mark.parametrize("session", SESSIONS, ids=["ufdl-projects", "ufdl-teams", "testiny", "recipes", "prefer",
                                                             "mock-sessions"])
def test_a_readme_session_pasted_twice_answers_what_its_comments_say(session):
    with ServerProcess() as server:
        script = WRAPPER + session.replace("http://127.0.0.1:8000", server.url).replace(
            "localhost:8000", server.url.removeprefix("http://"))
        for paste in (1, 2):
            done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
            statuses = re.findall(r"^@@(\d{3})$", done.stderr, re.M)
            wanted = expected_statuses(session)
            assert len(statuses) == len(wanted), (paste, done.stderr[-2000:])
            for number, (got, want) in enumerate(zip(statuses, wanted, strict=True)):
                line = [ln for ln in session.replace("\\\n", " ").splitlines() if "curl " in ln][number]
                assert got == want or (want == "ok" and got < "400"), f"paste {paste}: {got} for {line.strip()}"
