"""Sessions in a real browser: a page of another origin calls the mock with `credentials:
"include"`, so the session cookie rides along without any code for it; two browser contexts with
two cookies see two different worlds (headless Chromium driven by Playwright)."""

from __future__ import annotations

from browser import browser, serve_directory

from mockserver.testing import RunningMock

APP_PAGE = """<!doctype html><title>app</title><ul id="names"></ul><script>
const mock = new URLSearchParams(location.search).get("mock");
const who = new URLSearchParams(location.search).get("who");
const options = {credentials: "include", headers: {"X-Api-Key": "testiny-mock-demo-key", "Content-Type": "application/json"}};
async function run() {
  const made = await fetch(mock + "/api/v1/project", {...options, method: "POST", body: JSON.stringify({name: "Made by " + who})});
  const found = await fetch(mock + "/api/v1/project/find", {...options, method: "POST", body: "{}"});
  const names = (await found.json()).data.map(p => p.name);
  for (const name of names) document.getElementById("names").appendChild(Object.assign(document.createElement("li"), {textContent: name}));
  document.title = `done ${made.status} ${found.status}`;
}
run().catch(error => { document.title = "failed " + error; });
</script>"""


def test_two_browser_contexts_with_two_session_cookies_see_two_worlds(tmp_path):
    (tmp_path / "app.html").write_text(APP_PAGE)
    with RunningMock(apis=("testiny",)) as mock, serve_directory(tmp_path) as app, browser() as chromium:
        seen = {}
        for who in ("alice", "bob"):
            context = chromium.new_context()
            context.add_cookies([{"name": "mock_session", "value": who, "url": mock.url}])
            page = context.new_page()
            page.goto(f"{app}/app.html?mock={mock.url}&who={who}")
            page.wait_for_function("document.title.startsWith('done') || document.title.startsWith('failed')",
                                   timeout=10000)
            assert page.title() == "done 200 200", page.title()
            seen[who] = page.locator("#names li").all_inner_texts()
            context.close()
        assert seen == {"alice": ["Made by alice"], "bob": ["Made by bob"]}
        assert mock.state()["testiny"]["projects"] == []  # the default world saw neither
        assert {s["name"] for s in mock.sessions()} == {"alice", "bob"}
