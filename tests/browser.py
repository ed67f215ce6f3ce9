"""The browser tests' Chromium (Debian's chromium + chromium-driver, driven by selenium): skipped
where it is missing, except in CI (CI=true), where it must be there."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def browser_or_skip() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    message = "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs the browser tests: {message}")
    pytest.skip(message)


def chromium(profile: Path, window: str = "1400,1000", console: bool = False):
    """A headless Chromium whose profile lives in ``profile``; ``console`` keeps the page's console
    messages for ``driver.get_log("browser")``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--window-size={window}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait(what, condition, timeout=180, every=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def screenshot(driver, path: Path) -> None:
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
