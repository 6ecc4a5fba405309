"""The specs in the tools users feed them to (interop/check.py): Spectral and Redocly lint clean,
Prism as a validating proxy in front of the mock sees no violation on valid traffic, flags a wrong
body and survives hostile names, and openapi-typescript's clients compile with tsc --strict.
Skipped without Node >= 20.19 and npm (the tools come from the npm registry)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parent.parent / "interop" / "check.py"


def node_version() -> tuple[int, ...]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return ()
    text = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


pytestmark = pytest.mark.skipif(node_version() < (20, 19), reason="needs Node >= 20.19 and npm")


@pytest.mark.parametrize("check", ["lint", "prism", "types"])
def test_the_specs_pass_in_the_tools_users_feed_them_to(check):
    done = subprocess.run([sys.executable, str(CHECK), check], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
