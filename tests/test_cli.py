"""The `mockserver` command as a user runs it: options, start-up banner, seeds, state file, shutdown."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import requests
from server_process import ServerProcess, admin_headers, run_mockserver

from mockserver.cli import build_parser, config_from_args, main


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--api", "--empty", "--seed", "--state-file", "--ufdl-access-lifetime",
                   "--control-token", "--quiet", "--log-level"):
        assert option in out


def test_options_become_the_config():
    args = build_parser().parse_args(["--port", "9001", "--api", "ufdl", "--empty", "--ufdl-admin", "root:pw",
                                      "--ufdl-access-lifetime", "60"])
    config = config_from_args(args)
    assert (config.port, config.apis, config.demo_data) == (9001, ("ufdl",), False)
    options = config.api_options["ufdl"]
    assert (options.admin_username, options.admin_password, options.access_lifetime) == ("root", "pw", 60)


def test_check_spec_accepts_the_bundled_specs():
    assert main(["check-spec"]) == 0


def test_check_spec_rejects_a_broken_spec(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n")
    assert main(["check-spec", str(broken)]) == 1
    assert "INVALID" in capsys.readouterr().err


def test_server_prints_where_it_listens_and_the_credentials_then_stops_on_ctrl_c():
    server = ServerProcess().start()
    banner = "".join(server.banner)
    assert "admin/admin" in banner and "/__mock__/" in banner
    assert server.get("/__mock__/health").json()["status"] == "ok"
    code, output = server.stop(signal.SIGINT)
    assert code == 0
    assert "shutting down" in output and "Traceback" not in output


def test_empty_start_has_only_the_superuser_and_no_projects():
    with ServerProcess("--empty", "--api", "ufdl") as server:
        headers = admin_headers(server)
        assert server.post("/v1/projects/list", headers=headers).json() == []
        assert [u["username"] for u in server.post("/v1/users/list", headers=headers).json()] == ["admin"]


def test_a_bad_seed_file_is_refused_with_file_place_and_reason(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("ufdl:\n  projects:\n    - {name: Cats}\n")
    result = run_mockserver("--seed", str(seed), "--port", "0")
    assert result.returncode == 2
    assert str(seed) in result.stderr and "ufdl.projects[0]" in result.stderr and "'team'" in result.stderr


def test_seed_file_data_is_served(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"ufdl": {"teams": [{"name": "vision"}], "projects": [{"name": "Cats", "team": "vision"}]}}))
    with ServerProcess("--seed", str(seed), "--api", "ufdl") as server:
        names = [p["name"] for p in server.post("/v1/projects/list", headers=admin_headers(server)).json()]
        assert names == ["Cats"]


def test_state_file_keeps_data_across_a_restart(tmp_path):
    state = tmp_path / "state.db"
    with ServerProcess("--empty", "--api", "ufdl", "--state-file", str(state)) as server:
        headers = admin_headers(server)
        team = server.post("/v1/teams/create", headers=headers, json={"name": "kept"}).json()
        first = server.post("/v1/projects/create", headers=headers, json={"name": "one", "team": team["pk"]}).json()
        server.stop(signal.SIGTERM)
    with ServerProcess("--empty", "--api", "ufdl", "--state-file", str(state)) as server:
        headers = admin_headers(server)
        projects = server.post("/v1/projects/list", headers=headers).json()
        assert projects == [first]
        second = server.post("/v1/projects/create", headers=headers, json={"name": "two", "team": team["pk"]}).json()
        assert second["pk"] == first["pk"] + 1  # counters survive too: pks are never reused


def test_shutdown_finishes_requests_in_flight():
    server = ServerProcess("--empty", "--api", "ufdl").start()
    server.post("/__mock__/faults", json={"path": "/v1/projects/list", "latency_ms": 1500})
    result: dict[str, int] = {}

    def slow_call() -> None:
        result["status"] = server.post("/v1/projects/list", headers=admin_headers(server)).status_code

    caller = threading.Thread(target=slow_call)
    caller.start()
    time.sleep(0.7)
    code, _ = server.stop(signal.SIGTERM)
    caller.join()
    assert code == 0
    assert result["status"] == 200


def test_state_file_keeps_testiny_projects_and_etags_across_a_restart(tmp_path):
    state = tmp_path / "state.db"
    key = {"X-Api-Key": "testiny-mock-demo-key"}
    with ServerProcess("--empty", "--api", "testiny", "--state-file", str(state)) as server:
        created = server.post("/api/v1/project", headers=key, json={"name": "Kept", "project_key": "KEPT"}).json()
        requests.delete(f"{server.url}/api/v1/project/{created['id']}", headers=key, timeout=10)
        deleted = server.get(f"/api/v1/project/{created['id']}", headers=key).json()
        server.stop(signal.SIGTERM)
    with ServerProcess("--empty", "--api", "testiny", "--state-file", str(state)) as server:
        assert server.get(f"/api/v1/project/{created['id']}", headers=key).json() == deleted
        again = server.post("/api/v1/project", headers=key, json={"name": "Next", "project_key": "KEPT"}).json()
        assert again["id"] == created["id"] + 1  # the key was free (its holder is deleted), ids go on


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http"])
def test_a_port_that_is_no_port_is_refused(port, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--port", port])
    assert exited.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_a_busy_port_is_one_clear_line_and_exit_status_1():
    with ServerProcess("--empty") as server:
        port = server.url.rsplit(":", 1)[1]
        result = run_mockserver("--port", port, "--quiet")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "address already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_check_spec_has_its_own_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["check-spec", "--help"])
    assert exited.value.code == 0 and "usage: mockserver check-spec" in capsys.readouterr().out


def test_the_banner_names_the_demo_accounts_and_what_was_loaded(tmp_path):
    with ServerProcess() as server:
        banner = "".join(server.banner)
    assert "mockserver 0.2.0 listening" in banner
    assert "data     demo data" in banner and "users alice/alice, bob/bob" in banner
    state = tmp_path / "state.db"
    with ServerProcess("--empty", "--state-file", str(state)) as server:
        assert f"data     state file {state} (new; starts from empty" in "".join(server.banner)
        server.stop(signal.SIGTERM)
    with ServerProcess("--empty", "--state-file", str(state)) as server:
        assert "testiny, ufdl restored from it" in "".join(server.banner)


def test_a_seed_whose_records_do_not_fit_together_names_the_file(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("ufdl:\n  projects: [{name: x, team: nope}]\n")
    result = run_mockserver("--seed", str(seed), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == f"mockserver: {seed}: ufdl: project 'x': no team named 'nope'"
