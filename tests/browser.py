"""Debian's Chromium driven by Playwright (the system browser: Playwright downloads nothing). Tests skip,
saying why, only where no Chromium is installed; CI sets MONITOR_REQUIRE_BROWSER=1, where a missing browser
fails instead."""
from __future__ import annotations

import os
import shutil

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Headless, and quiet on a closed network: no background update, sync or component downloads.
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--disable-default-apps", "--mute-audio"]


def find_chromium() -> str | None:
    named = os.environ.get("MONITOR_CHROMIUM")
    if named:
        return named if os.path.exists(named) else None
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


@pytest.fixture(scope="module")
def browser():
    path = find_chromium()
    if path is None:
        if os.environ.get("MONITOR_REQUIRE_BROWSER") == "1":
            pytest.fail("no Chromium found, and MONITOR_REQUIRE_BROWSER=1: install Debian's chromium package")
        pytest.skip("no Chromium found (apt-get install chromium, or set MONITOR_CHROMIUM to its path)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=ARGS, timeout=60_000)
        yield launched
        launched.close()


def sign_in(browser, base_url: str, name: str, password: str):
    """A fresh browser context (its own cookies) signed in through the login form; its page on /cases."""
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/cases")
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases")
    return page
