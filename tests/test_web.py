"""The static page web/index.html: its weight files are a fresh export's, and in a real Chromium,
opened from file://, it runs the shipped generators with Python's numbers (marker `browser`)."""
import json
from pathlib import Path

import numpy as np
import pytest
from browser import browser_or_skip, chromium, screenshot, wait

import cgan
from cgan import web
from cgan.manifold import to_uint8

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "web" / "index.html"
PYTHON_MODELS = {"cgan": ("cgan", False), "cgan-averaged": ("cgan", 0.999), "gan": ("gan", False)}
DIGIT = "return Array.from(document.getElementById('digit').getContext('2d').getImageData(0, 0, 28, 28).data)"


def test_the_committed_weight_files_equal_a_fresh_export(tmp_path):
    paths = web.export(tmp_path / "page")
    assert [p.name for p in paths] == ["cgan.js", "cgan-averaged.js", "gan.js"]
    for path in paths:
        assert path.read_bytes() == (ROOT / "web" / "weights" / path.name).read_bytes(), path.name


def test_the_page_and_its_weights_stay_under_3_mb():
    size = sum(p.stat().st_size for p in (ROOT / "web").rglob("*") if p.is_file())
    assert size <= 3_000_000, size


def test_a_weight_file_holds_the_shipped_arrays(tmp_path):
    text = web.model_script("cgan-averaged")
    spec = json.loads(text[text.index("= {") + 2:text.rindex(";")])
    flat = np.frombuffer(__import__("base64").b64decode(spec["data"]), "<f4")
    settings, arrays = web.model_arrays("cgan-averaged")
    assert spec["shapes"] == [list(a.shape) for a in arrays] and spec["decay"] == 0.999
    np.testing.assert_array_equal(flat, np.concatenate([a.ravel() for a in arrays]))
    np.testing.assert_array_equal(spec["grid"], cgan.grid(settings))
    graph = cgan.load_generator("cgan", averaged=0.999)  # the same arrays Python draws from
    try:
        for got, want in zip(graph.sess.run(list(graph.generator.weights)), arrays):
            np.testing.assert_array_equal(got, want)
    finally:
        graph.close()


def test_export_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="model='nope' is unknown; accepted: cgan, cgan-averaged, gan"):
        web.model_arrays("nope")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        web.export(tmp_path / "file")


# -- in Chromium ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The committed page opened from file:// in a headless Chromium, its manifold drawn."""
    browser_or_skip()
    driver = chromium(tmp_path_factory.mktemp("web") / "chromium", console=True)
    try:
        driver.get(PAGE.as_uri())
        _manifold_drawn(driver, 1)
        yield driver
    finally:
        driver.quit()


def _manifold_drawn(driver, grid_id):
    wait(f"manifold {grid_id}", lambda: driver.execute_script(
        "return document.getElementById('manifold').dataset.grid") == str(grid_id), timeout=60)


@pytest.fixture(scope="module")
def python_generators():
    graphs = {name: cgan.load_generator(kind, averaged=averaged) for name, (kind, averaged) in PYTHON_MODELS.items()}
    yield graphs
    for graph in graphs.values():
        graph.close()


@pytest.mark.browser
def test_the_page_opens_from_file_with_the_three_generators_and_no_console_errors(page, tmp_path):
    try:
        assert page.current_url.startswith("file://")
        assert page.execute_script("return window.cgan.models") == ["cgan", "cgan-averaged", "gan"]
        options = page.execute_script("return Array.from(document.querySelectorAll('#model option'))"
                                      ".map(o => o.value)")
        assert options == ["cgan", "cgan-averaged", "gan"]
        severe = [e for e in page.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert severe == []
        # the manifold's pixels are drawn: dark digits on white, not a blank canvas
        ink = page.execute_script("const d = document.getElementById('manifold').getContext('2d')"
                                  ".getImageData(0, 0, 420, 420).data; let n = 0;"
                                  "for (let i = 0; i < d.length; i += 4) n += d[i] < 128; return n")
        assert 5_000 < ink < 100_000
    finally:
        screenshot(page, tmp_path / "web-page.png")


@pytest.mark.browser
@pytest.mark.parametrize("model", list(PYTHON_MODELS))
def test_generate_equals_pythons_within_1e_5(page, python_generators, model):
    rng = np.random.default_rng(7)
    zs = np.concatenate([[[0.0, 0.0], [-1.6448536, 1.6448536], [2.9, -3.0]], rng.standard_normal((5, 2))])
    labels = [3, 0, 9, *rng.integers(0, 10, 5)]
    conditional = model != "gan"
    want = python_generators[model].generate(zs, labels if conditional else None).reshape(len(zs), 784)
    got = np.array([page.execute_script("return Array.from(window.cgan.generate(...arguments))",
                                        model, float(z[0]), float(z[1]), int(c)) for z, c in zip(zs, labels)])
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5, np.abs(got - want).max()


@pytest.mark.browser
def test_the_digit_canvas_holds_the_packages_8_bit_picture(page, python_generators):
    state = page.execute_script("return {model: cgan.state.model, z: cgan.state.z, label: cgan.state.label}")
    assert state["model"] == "cgan"
    pixels = np.array(page.execute_script(DIGIT)).reshape(28, 28, 4)
    want = 255 - to_uint8(python_generators["cgan"].generate([state["z"]], [state["label"]]))[0, :, :, 0]
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 3] == 255).all()
    assert np.abs(pixels[..., 0].astype(int) - want.astype(int)).max() <= 1


@pytest.mark.browser
def test_each_slider_moved_with_the_keyboard_redraws_the_digit(page, tmp_path):
    from selenium.webdriver.common.keys import Keys

    try:
        for slider, key, check in (("z1", Keys.ARROW_RIGHT, lambda s: abs(s["z"][0] - 0.05) < 1e-9),
                                   ("z2", Keys.ARROW_LEFT, lambda s: abs(s["z"][1] + 0.05) < 1e-9),
                                   ("label", Keys.ARROW_RIGHT, lambda s: s["label"] == 4)):
            before = page.execute_script(DIGIT)
            drawn = int(page.execute_script("return document.getElementById('digit').dataset.drawn"))
            page.find_element("id", slider).send_keys(*[key] * 5 if slider != "label" else [key])
            state = wait(f"{slider} to move", lambda: (lambda s: s if check(s) else None)(
                page.execute_script("return {z: cgan.state.z, label: cgan.state.label}")), timeout=10)
            assert int(page.execute_script("return document.getElementById('digit').dataset.drawn")) > drawn
            assert page.execute_script(DIGIT) != before, f"moving {slider} must change the digit"
            shown = page.find_element("id", "label-value" if slider == "label" else f"{slider}-value").text
            assert shown == (str(state["label"]) if slider == "label" else f"{state['z'][int(slider[1]) - 1]:.2f}")
        grid = int(page.execute_script("return cgan.state.gridId"))
        _manifold_drawn(page, grid)
        assert page.find_element("id", "manifold-title").text == "Label: 4"
    finally:
        screenshot(page, tmp_path / "after-keys.png")


@pytest.mark.browser
def test_a_click_on_the_manifold_sets_z(page, python_generators):
    from selenium.webdriver.common.action_chains import ActionChains

    marker = page.find_element("id", "marker")
    grid = cgan.grid(cgan.Settings())
    row, col = 2, 10  # cell (row, col) of the manifold takes z = (grid[col], grid[row])
    scale = marker.size["width"] / 420
    ActionChains(page).move_to_element_with_offset(
        marker, (col * 28 + 14 - 210) * scale, (row * 28 + 14 - 210) * scale).click().perform()
    z = wait("z to be set", lambda: (lambda z: z if abs(z[0] - grid[col]) < 0.05 else None)(
        page.execute_script("return cgan.state.z")), timeout=10)
    # a click lands on a whole CSS pixel: within a pixel's worth of z of the cell's centre
    assert abs(z[0] - grid[col]) < 0.02 and abs(z[1] - grid[row]) < 0.02, (z, grid[col], grid[row])
    label = page.execute_script("return cgan.state.label")
    pixels = np.array(page.execute_script(DIGIT)).reshape(28, 28, 4)[..., 0]
    want = 255 - to_uint8(python_generators["cgan"].generate([z], [label]))[0, :, :, 0]
    assert np.abs(pixels.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.browser
def test_the_plain_gan_hides_the_label_and_draws_its_manifold(page, python_generators, tmp_path):
    from selenium.webdriver.support.ui import Select

    try:
        grid = int(page.execute_script("return cgan.state.gridId"))
        Select(page.find_element("id", "model")).select_by_value("gan")
        _manifold_drawn(page, grid + 1)
        assert not page.find_element("id", "label").is_displayed()
        assert page.find_element("id", "manifold-title").text == "no label"
        z = page.execute_script("return cgan.state.z")
        pixels = np.array(page.execute_script(DIGIT)).reshape(28, 28, 4)[..., 0]
        want = 255 - to_uint8(python_generators["gan"].generate([z]))[0, :, :, 0]
        assert np.abs(pixels.astype(int) - want.astype(int)).max() <= 1
    finally:
        Select(page.find_element("id", "model")).select_by_value("cgan")
        screenshot(page, tmp_path / "gan.png")


@pytest.mark.browser
def test_generate_names_what_was_wrong(page):
    def error(*args):
        return page.execute_script("try { window.cgan.generate(...arguments); return null; }"
                                   "catch (e) { return e.message; }", *args)

    assert error("nope", 0, 0, 3) == 'unknown model "nope"; known: cgan, cgan-averaged, gan'
    assert error("cgan", "0", 0, 3) == "z1 must be a finite number, got 0"
    assert error("cgan", 0, None, 3) == "z2 must be a finite number, got null"
    assert error("cgan", 0, 0, 10) == "label must be an integer in 0..9, got 10"
    assert error("cgan", 0, 0, 2.5) == "label must be an integer in 0..9, got 2.5"
    assert error("gan", 0, 0, None) is None  # the plain GAN takes no label
