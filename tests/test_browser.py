"""The notebook where users see it: JupyterLab in a real browser (Debian's Chromium, driven by
selenium), and the static HTML export. Marker `browser`: `pytest -m browser` runs only these,
`-m "not browser"` skips them. Without Chromium they are skipped locally, and fail in CI (CI=true).
Each check saves a screenshot next to the test's output (its tmp_path) and prints where."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import browser_or_skip, chromium, screenshot, wait

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "cgan_gan_tensorflow.ipynb"
COMPANION = ROOT / "notebooks" / "cgan_keras3.ipynb"
TOKEN = "cgan-browser-test"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the active tab (JupyterLab keeps others open)
SLIDERS = {"cells": [{"cell_type": "code", "execution_count": None, "id": "sliders", "metadata": {}, "outputs": [],
                      "source": "import cgan\nview = cgan.explore.sliders(cgan.load_generator(\"cgan\"))"}],
           "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
           "nbformat": 4, "nbformat_minor": 5}
ALL_IMAGES_LOADED = """
const images = Array.from(document.querySelectorAll(arguments[0]));
return {count: images.length, pending: images.filter(i => !i.complete).length,
        broken: images.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src.slice(0, 120))};
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A JupyterLab server on a loopback port over a temporary root holding the committed notebook,
    figs/ and a small sliders notebook; and a headless Chromium. Yields (driver, base URL, root)."""
    browser_or_skip()
    tmp = tmp_path_factory.mktemp("browser")
    root = tmp / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    shutil.copy2(COMPANION, root / "notebooks" / COMPANION.name)
    shutil.copytree(ROOT / "figs", root / "figs")
    (root / "sliders.ipynb").write_text(json.dumps(SLIDERS))
    settings = tmp / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))  # every cell in the DOM
    env = dict(os.environ, HOME=str(tmp / "home"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"), IPYTHONDIR=str(tmp / "ipython"),
               MPLCONFIGDIR=str(tmp / "mpl"), TF_CPP_MIN_LOG_LEVEL="3")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}",
         f"--LabApp.user_settings_dir={tmp / 'lab-settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp / "jupyterlab.log", "w"), env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as r:
                return r.status == 200
        except OSError:
            assert server.poll() is None, (tmp / "jupyterlab.log").read_text()[-3000:]
            return False

    driver = None
    try:
        wait("JupyterLab to answer", up, timeout=120)
        driver = chromium(tmp / "chromium")
        yield driver, base, root, tmp
    finally:
        if driver is not None:
            driver.quit()
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def render(driver, base, notebook: Path, panel: str, images: int) -> str:
    """Open a committed notebook in JupyterLab and wait for every cell and for at least `images` output
    images to load; none broken, no stderr output anywhere. Returns the selector of its output images."""
    driver.get(f"{base}/lab/tree/notebooks/{notebook.name}?token={TOKEN}")
    cells = len(json.loads(notebook.read_text())["cells"])
    wait(f"every cell of {notebook.name}", lambda: len(driver.find_elements(
        "css selector", f"{panel} .jp-Notebook .jp-Cell")) >= cells)
    selector = f"{panel} .jp-OutputArea img"
    wait("the outputs' images", lambda: driver.execute_script(ALL_IMAGES_LOADED, selector)["count"] >= images)
    state = wait("the images to load", lambda: (lambda s: s if s["pending"] == 0 else None)(
        driver.execute_script(ALL_IMAGES_LOADED, selector)), timeout=60)
    assert state["broken"] == [], state
    errors = driver.find_elements("css selector", ".jp-OutputArea-output[data-mime-type="
                                                  "'application/vnd.jupyter.stderr'], .jp-RenderedText"
                                                  "[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors == []
    return selector


def test_committed_notebook_renders_with_every_image(site, tmp_path):
    driver, base, _, _ = site
    try:
        selector = render(driver, base, NOTEBOOK, ".jp-NotebookPanel", images=25)
        gifs = driver.execute_script("return Array.from(document.querySelectorAll(arguments[0]))"
                                     ".filter(i => i.src.includes('.gif')).map(i => i.naturalWidth)", selector)
        assert len(gifs) == 11 and min(gifs) > 0  # the ten training GIFs and the latent walk, linked from figs/
    finally:
        screenshot(driver, tmp_path / "committed-notebook.png")


def test_sliders_redraw_the_digit_when_moved_with_the_keyboard(site, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver, base, _, _ = site
    driver.get(f"{base}/lab/tree/sliders.ipynb?token={TOKEN}")
    try:
        def kernel_idle():
            with urllib.request.urlopen(f"{base}/api/sessions?token={TOKEN}", timeout=5) as r:
                sessions = [x for x in json.load(r) if x["path"].endswith("sliders.ipynb")]
            return sessions and sessions[0]["kernel"]["execution_state"] == "idle"

        wait("the kernel to be idle", kernel_idle, timeout=120)
        time.sleep(1)  # the page settles after the kernel's start
        def click_editor():
            from selenium.common.exceptions import WebDriverException

            try:  # the page may still re-render the cell: try again until it takes the click
                driver.find_elements("css selector", f"{PANEL} .jp-Cell .cm-content")[0].click()
                return True
            except (IndexError, WebDriverException):
                return False

        wait("the cell's editor to take a click", click_editor, timeout=60)
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        handle = wait("the sliders", lambda: driver.find_elements("css selector", f"{PANEL} .widget-slider .noUi-handle"),
                       timeout=240)[0]
        picture = """
            const img = document.querySelector(arguments[0] + ' .jp-OutputArea .widget-image');
            const canvas = document.createElement('canvas');
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            canvas.getContext('2d').drawImage(img, 0, 0);
            return [canvas.toDataURL(), document.querySelector(arguments[0] + ' .jp-OutputArea .widget-html').innerText];
        """
        before = wait("the first digit", lambda: (lambda p: p if "z = (0.0, 0.0)" in p[1] else None)(
            driver.execute_script(picture, PANEL)))
        handle.click()  # focus z1's handle, then the arrow keys, as a user would
        ActionChains(driver).send_keys(*[Keys.ARROW_RIGHT] * 5).perform()
        after = wait("the digit drawn again", lambda: (lambda p: p if "z = (0.5, 0.0)" in p[1] else None)(
            driver.execute_script(picture, PANEL)), timeout=60)
        assert "label 5" in after[1] and after[1] != before[1]
        assert after[0] != before[0], "the image data must change with z1"
    finally:
        screenshot(driver, tmp_path / "sliders.png")


def test_static_html_shows_the_sliders_picture_and_every_image(site, tmp_path):
    driver, _, root, tmp = site
    html = root / "notebooks" / "static.html"
    proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(NOTEBOOK), "--output",
                           str(html)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, HOME=str(tmp / "home"), JUPYTER_CONFIG_DIR=str(tmp / "config")))
    assert proc.returncode == 0, proc.stderr[-2000:]
    driver.get(html.as_uri())
    try:
        state = wait("the images to load", lambda: (lambda s: s if s["pending"] == 0 and s["count"] else None)(
            driver.execute_script(ALL_IMAGES_LOADED, ".jp-OutputArea img")), timeout=60)
        assert state["broken"] == [] and state["count"] >= 25, state
        shown = driver.execute_script("""
            const cell = Array.from(document.querySelectorAll('.jp-Cell'))
                .find(c => (c.querySelector('.jp-InputArea') || {}).innerText?.includes('explore.sliders('));
            return Array.from(cell.querySelectorAll('.jp-OutputArea img')).map(i => i.naturalWidth);
        """)
        assert len(shown) == 1 and shown[0] > 100, "the static picture stands where the sliders are"
    finally:
        screenshot(driver, tmp_path / "static-html.png")


def test_committed_companion_renders_with_every_image(site, tmp_path):
    """The Keras 3 companion's record in JupyterLab: every cell, its pictures (the last snapshot
    shown while training, the ten manifolds) loaded and none broken, no error output."""
    driver, base, _, _ = site
    try:
        render(driver, base, COMPANION, PANEL, images=2)
        text = driver.find_element("css selector", PANEL).text
        assert "tf.GradientTape()" in text and "TF1 graph (the article's code)" in text  # the step's source; the study table
    finally:
        screenshot(driver, tmp_path / "companion-notebook.png")
