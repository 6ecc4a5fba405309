"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import pytest
import requests
from browser import browser, serve_directory
from server_process import ServerProcess, admin_headers
from third_api import notes_plugin


@pytest.fixture
def browser_page():
    with browser() as launched:
        yield launched.new_page()


def test_dashboard_shows_state_and_journal_live_and_its_buttons_work(browser_page, tmp_path):
    page = browser_page
    with ServerProcess("--api", "ufdl") as server:
        page.goto(server.url + "/__mock__/")
        state = page.locator("#apis")
        state.get_by_text("Alpha", exact=True).wait_for()
        deleted_row = page.locator("tr.deleted", has_text="Old experiments")
        assert deleted_row.count() == 1  # soft-deleted projects are marked

        headers = admin_headers(server)
        server.post("/v1/projects/create", headers=headers, json={"name": "Live one", "team": 1})
        server.post("/v1/projects/list", headers=headers, json={"expressions": "nope"})
        state.get_by_text("Live one", exact=True).wait_for(timeout=5000)
        failed = page.locator("#journal tr.failed", has_text="/v1/projects/list")
        failed.first.wait_for(timeout=5000)
        assert "Unable to parse JSON" in failed.first.inner_text()
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        page.click("#reset")
        state.get_by_text("Live one", exact=True).wait_for(state="detached", timeout=5000)
        assert server.post("/v1/projects/list", headers=headers).status_code == 401  # a new world: log in again
        headers = admin_headers(server)
        assert server.post("/v1/projects/list", headers=headers).json()[-1]["name"] != "Live one"

        page.fill("#seed", '{"ufdl": {"teams": [{"name": "vision"}], "projects": [{"name": "Cats", "team": "vision"}]}}')
        page.click("#load-seed")
        page.locator("#message", has_text="Loaded: ufdl").wait_for(timeout=5000)
        state.get_by_text("Cats", exact=True).wait_for(timeout=5000)
        headers = admin_headers(server)  # a seed starts a new world too
        assert [p["name"] for p in server.post("/v1/projects/list", headers=headers).json()] == ["Cats"]

        page.fill("#seed", '{"ufdl": {"projects": [{"name": "no team"}]}}')
        page.click("#load-seed")
        page.locator("#message.error-text").wait_for(timeout=5000)
        assert "team" in page.inner_text("#message")


EVIL_PAGE = """<!doctype html><title>evil</title><script>
const mock = new URLSearchParams(location.search).get("mock");
const tries = [
  fetch(mock + "/__mock__/reset", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: "x"}),
  fetch(mock + "/__mock__/seed?mode=merge", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
        body: JSON.stringify({ufdl: {users: [{username: "evil", password: "evil", is_superuser: true}]}})}),
  fetch(mock + "/__mock__/purge?prefix=Al", {method: "POST", mode: "no-cors"}),
  fetch(mock + "/__mock__/seed", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}),
  fetch(mock + "/__mock__/state").then(r => r.text()),
];
Promise.allSettled(tries).then(results => {
  const read = results[4].status === "fulfilled" ? "READ" : "BLOCKED";
  document.title = "done " + read + " " + results.map(r => r.status).join(",");
});
</script>"""


def test_a_page_of_another_origin_cannot_reset_seed_purge_or_read(browser_page, tmp_path):
    (tmp_path / "evil.html").write_text(EVIL_PAGE)
    with serve_directory(tmp_path) as evil, ServerProcess("--api", "ufdl") as server:
        before = server.get("/__mock__/state").json()
        browser_page.goto(f"{evil}/evil.html?mock={server.url}")
        browser_page.wait_for_function("document.title.startsWith('done')", timeout=10000)
        assert "BLOCKED" in browser_page.title()
        assert server.get("/__mock__/state").json() == before  # not reset, seeded or purged


def test_the_dashboard_switches_between_the_default_world_and_sessions(browser_page):
    page = browser_page
    with ServerProcess("--api", "testiny") as server:
        key = {"X-Api-Key": "testiny-mock-demo-key"}
        requests.post(server.url + "/api/v1/project", json={"name": "Only in s1"}, headers={**key, "X-Mock-Session": "s1"},
                      timeout=10)
        page.goto(server.url + "/__mock__/")
        state = page.locator("#apis")
        state.get_by_text("Demo Project", exact=True).wait_for()
        assert state.get_by_text("Only in s1", exact=True).count() == 0
        page.locator("#world option[value='s1']").wait_for(state="attached", timeout=5000)
        page.select_option("#world", "s1")
        state.get_by_text("Only in s1", exact=True).wait_for(timeout=5000)
        page.locator("#journal tr", has_text="/api/v1/project").first.wait_for(timeout=5000)
        page.click("#reset")  # resets the session shown, not the default world
        state.get_by_text("Only in s1", exact=True).wait_for(state="detached", timeout=5000)
        page.select_option("#world", "")
        state.get_by_text("Demo Project", exact=True).wait_for(timeout=5000)
        assert requests.get(server.url + "/__mock__/state?session=s1", timeout=10).status_code == 200


def test_the_dashboard_shows_a_third_api_it_was_never_told_about(browser_page, tmp_path):
    with notes_plugin(tmp_path) as env, ServerProcess("--api", "notes", "--api", "testiny", env=env) as server:
        requests.post(server.url + "/notes/v1/notes", json={"title": "A plugin's note"},
                      headers={"X-Note-Key": "note-key"}, timeout=10)
        page = browser_page
        page.goto(server.url + "/__mock__/")
        box = page.locator("#apis div[data-api='notes']")
        box.get_by_text("A plugin's note", exact=True).wait_for(timeout=5000)
        assert "notes (1)" in box.inner_text().lower()  # the heading names the kind and counts it
        page.locator("#journal tr", has_text="/notes/v1/notes").first.wait_for(timeout=5000)
