"""The conformance suite works from the built wheel alone: a fresh virtual environment with only
`mockserver[conformance]` installed from the wheel (no clone on sys.path, started from an empty
directory) checks a mock served by that same installation through `mockserver conformance`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
import requests
from broken_variants import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a new venv holding the wheel built from this checkout, with its `conformance` extra."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(work.glob("mockserver-*.whl"))
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", f"{wheel}[conformance]"], check=True,
                   capture_output=True, timeout=600)
    return bin_dir


def test_the_wheel_runs_the_suite_against_a_mock(installed, tmp_path):
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = subprocess.run([str(installed / "python"), "-c", "import conformance, mockserver; "
                            "print(conformance.__file__); print(mockserver.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert all("site-packages" in line for line in where.stdout.split()), where.stdout + where.stderr
    port = free_port()
    server = subprocess.Popen([str(installed / "mockserver"), "--empty", "--port", str(port), "--quiet"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(url + "/__mock__/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        done = subprocess.run([str(installed / "mockserver"), "conformance", "--base-url", url, "-q", "--allow-create-accounts",
                               "--rule", "ufdl.lifecycle.*", "--rule", "testiny.lifecycle.*",
                               "--report", str(tmp_path / "report.md")],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=10)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "conformance summary" in output and "no failures" in output
    assert "the server holds nothing of this run" in output
    assert "ufdl.lifecycle.read-back" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert not any(p.name == ".pytest_cache" for p in tmp_path.iterdir()), os.listdir(tmp_path)


USER_TESTS = '''
import requests

def test_create_then_list(mockserver):
    auth = mockserver.ufdl_headers()
    team = requests.post(mockserver.ufdl_url + "teams/create", json={"name": "mine"}, headers=auth).json()
    requests.post(mockserver.ufdl_url + "projects/create", json={"name": "P", "team": team["pk"]}, headers=auth)
    assert [p["name"] for p in requests.post(mockserver.ufdl_url + "projects/list", headers=auth).json()] == ["P"]

def test_each_test_starts_from_the_start_up_data(mockserver):
    assert requests.post(mockserver.ufdl_url + "projects/list", headers=mockserver.ufdl_headers()).json() == []
'''


def test_a_project_of_a_user_gets_the_mockserver_fixture_from_the_wheel(installed, tmp_path):
    (tmp_path / "test_mine.py").write_text(USER_TESTS)
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([str(installed / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "2 passed" in done.stdout
