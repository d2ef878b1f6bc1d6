"""The memory browser in a real browser: Debian's headless Chromium driven by Playwright.

A real ``pmem serve`` process serves a real store; the test loads the page, filters, searches,
forgets with confirmation, and checks with the library that the memories are gone from the store.
Playwright never downloads a browser here: it drives /usr/bin/chromium (scripts/test installs it).
Set PMEM_UPDATE_SCREENSHOTS=1 to refresh the screenshot the README shows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from persona_memory import MemoryNotFoundError, PersonaStore
from tests.helpers.servers import ROOT, Server, running_server

CHROMIUM = "/usr/bin/chromium"
# infra.md §6: no sandbox (root in a container), nothing that talks to the network by itself
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
README_SCREENSHOT = ROOT / "docs" / "memory-browser.png"

if not Path(CHROMIUM).exists():
    if os.environ.get("PMEM_CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium package")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ADA = [  # content, tags, type, importance, said on
    ("User is vegetarian and loves Italian food", ["food", "preference"], "preference", 0.8, "2025-11-02"),
    ("Daughter Emma starts school in September", ["family", "emma"], "personal_fact", 0.9, "2025-06-10"),
    ("Got promoted to team lead today", ["work", "career"], "milestone", None, "2025-09-15"),
    ("Felt anxious before the job interview", ["work", "feelings"], "emotional_moment", None, "2025-08-01"),
    ("Keeps asking about sourdough baking", ["food", "baking"], "interest_signal", None, "2025-10-20"),
    ("Prefers short answers in the morning", ["style"], "preference", 0.6, "2025-12-01"),
    ("Mentioned the weather was rainy", [], "general", None, "2026-01-05"),
]


@pytest.fixture
def store_base(tmp_path: Path) -> Path:
    base = tmp_path / "memory-base"
    with PersonaStore("ada", base_path=str(base)) as ada:
        for content, tags, kind, importance, at in ADA:
            ada.store(content, tags=tags, type=kind, importance=importance, at=at)
    with PersonaStore("bob", base_path=str(base)) as bob:
        bob.store("Bob supports the home team", tags=["sport"], type="interest_signal")
    # what the evolution bridge keeps beside ada's memories (one damaged event line is skipped)
    ada_dir = base / "persona-ada"
    (ada_dir / "state.json").write_text(json.dumps({"relationship_stage": "friend", "mood": "warm"}))
    (ada_dir / "events.jsonl").write_text(
        json.dumps({"type": "interest_discovery", "at": "2025-10-21T09:00:00+00:00", "tag": "food"}) + "\n"
        + "{torn line\n"
        + json.dumps({"type": "relationship_stage", "at": "2025-12-02T09:00:00+00:00", "stage": "friend"}) + "\n"
    )
    return base


@pytest.fixture
def server(store_base: Path) -> Iterator[Server]:
    with running_server(store_base) as server:
        yield server


@pytest.fixture
def page(server: Server, tmp_path: Path) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        problems: list[str] = []
        requests: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("request", lambda request: requests.append(request.url))
        yield page
        browser.close()
    assert problems == [], problems
    # offline: every request went to this server
    assert requests and all(url.startswith(server.url + "/") for url in requests), requests


def test_browse_filter_search_and_forget(page, server: Server, store_base: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")  # redirects to /ui/
    rows = page.locator("#memory-table tbody tr")
    expect(page.locator("#persona")).to_have_value("ada")
    expect(rows).to_have_count(len(ADA))
    newest = rows.first  # newest first: the rainy weather
    expect(newest.locator("td.content")).to_have_text("Mentioned the weather was rainy")
    expect(newest.locator("td.type")).to_have_text("general")
    vegetarian = rows.filter(has_text="vegetarian")
    expect(vegetarian.locator(".tag")).to_have_text(["food", "preference"])
    expect(vegetarian.locator("td.num").first).to_have_text("0.80")
    expect(vegetarian.locator("td.num").nth(1)).to_have_text(re.compile(r"^\d+(y|mo|d)$"))

    # filter by tag, type and date
    page.select_option("#filter-tag", "food")
    expect(rows).to_have_count(2)
    page.select_option("#filter-type", "preference")
    expect(rows).to_have_count(1)
    page.click("#clear-filters")
    page.fill("#filter-since", "2025-10-01")
    page.fill("#filter-until", "2025-12-01")
    expect(rows.locator("td.content")).to_have_text([
        "Prefers short answers in the morning", "User is vegetarian and loves Italian food",
        "Keeps asking about sourdough baking"])
    page.click("#clear-filters")
    expect(rows).to_have_count(len(ADA))

    # stats and evolution beside the list
    expect(page.locator("#totals")).to_contain_text("Memories7")
    expect(page.locator("#top-tags li").first).to_have_text(re.compile(r"^(food|work) \(2\)$"))
    expect(page.locator("#by-type .bar")).to_have_count(6)
    expect(page.locator("#timeline svg rect")).not_to_have_count(0)
    expect(page.locator("#state")).to_contain_text('"relationship_stage": "friend"')
    expect(page.locator("#events li")).to_have_count(2)
    expect(page.locator("#events li").first).to_contain_text("relationship_stage")

    # search: the API's ranking, with the score shown
    page.fill("#query", "what does the user like to eat")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#count")).to_contain_text("for “what does the user like to eat”")
    expect(rows.first.locator("td.content")).to_have_text("User is vegetarian and loves Italian food")
    expect(rows.first.locator("td.score-col")).to_have_text(re.compile(r"^0\.\d{3}$"))
    page.fill("#query", "italian food or sourdough baking")
    page.click("#search-form button[type=submit]")
    expect(rows.locator("td.content")).to_have_count(2)
    scores = [float(text) for text in rows.locator("td.score-col").all_text_contents()]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    if os.environ.get("PMEM_UPDATE_SCREENSHOTS"):
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "search.png", README_SCREENSHOT)
    page.click("#clear-search")
    expect(rows).to_have_count(len(ADA))

    # forget two after a confirmation; cancelling first changes nothing
    targets = ["Mentioned the weather was rainy", "Keeps asking about sourdough baking"]
    ids = [rows.filter(has_text=text).get_attribute("data-id") for text in targets]
    for text in targets:
        rows.filter(has_text=text).locator("input[type=checkbox]").check()
    page.click("#forget-selected")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-title")).to_have_text("Forget 2 memories?")
    expect(page.locator("#confirm-list li")).to_have_text(targets)
    page.click("#confirm-cancel")
    expect(page.locator("#confirm")).to_be_hidden()
    expect(rows).to_have_count(len(ADA))
    page.click("#forget-selected")
    page.click("#confirm-forget")
    expect(page.locator("#status")).to_have_text("Forgot 2 memories.")
    expect(rows).to_have_count(len(ADA) - 2)
    expect(page.locator("#totals")).to_contain_text("Memories5")

    # and one by its own button
    rows.filter(has_text="Felt anxious").locator("button").click()
    expect(page.locator("#confirm-list li")).to_have_text(["Felt anxious before the job interview"])
    anxious = rows.filter(has_text="Felt anxious").get_attribute("data-id")
    page.click("#confirm-forget")
    expect(rows).to_have_count(len(ADA) - 3)
    page.screenshot(path=str(tmp_path / "after-forget.png"), full_page=True)

    # gone from the store itself, not just from the page
    with PersonaStore("ada", base_path=str(store_base)) as ada:
        for memory_id in [*ids, anxious]:
            with pytest.raises(MemoryNotFoundError):
                ada.get(str(memory_id))
        assert ada.stats().total == len(ADA) - 3

    # another persona: its own memories, and no evolution yet
    page.select_option("#persona", "bob")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.content")).to_have_text("Bob supports the home team")
    expect(page.locator("#state")).to_have_text("none yet")
    expect(page.locator("#no-events")).to_be_visible()
    assert page.url.endswith("/ui/?persona=bob")


def test_the_page_asks_for_the_token_when_the_server_needs_one(store_base: Path) -> None:
    from tests.helpers.servers import pmem_env

    env = pmem_env(store_base, PMEM_PERSONA_TOKENS="bob=bobs-token")
    with running_server(store_base, env=env) as server, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(server.url + "/ui/")
        expect(page.locator("#login")).to_be_visible()
        page.fill("#token", "bobs-token")
        page.click("#login-ok")
        # a persona token shows that persona only
        expect(page.locator("#persona option")).to_have_text(["bob"])
        expect(page.locator("#memory-table tbody tr")).to_have_count(1)
        browser.close()
