"""Run `python -m mockserver` as a real process on a free port, as a user would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent


class ServerProcess:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = ["--port", "0", "--quiet", *args]
        self.env = env  # the child's environment (default: this process's)
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.banner: list[str] = []

    def start(self, timeout: float = 20.0) -> ServerProcess:
        env = {**(self.env or os.environ), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "mockserver", *self.args], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited early: {self.proc.wait()} {''.join(self.banner)}")
            self.banner.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                self._drain_banner()
                return self
        raise RuntimeError("server did not start in time")

    def _drain_banner(self) -> None:
        for _ in range(8):
            line = self.proc.stdout.readline()
            self.banner.append(line)
            if line.startswith("control") or not line:
                break

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=10, **kwargs)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> tuple[int, str]:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rest, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest, _ = self.proc.communicate()
        return self.proc.returncode, "".join(self.banner) + (rest or "")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop(signal.SIGKILL)


def run_mockserver(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`python -m mockserver ARGS` to its end (for the runs that stop at start-up), output captured."""
    return subprocess.run([sys.executable, "-m", "mockserver", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def admin_headers(server: ServerProcess) -> dict[str, str]:
    response = server.post("/v1/auth/obtain", json={"username": "admin", "password": "admin"})
    return {"Authorization": f"Bearer {response.json()['access']}"}
