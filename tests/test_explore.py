"""The notebook's views of a trained generator (sliders, style grid, latent walk) and the
article's diagrams, drawn by cgan."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import cgan  # noqa: E402
from cgan import diagrams, explore  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    g = cgan.load_generator("cgan")
    yield g
    g.close()


def test_sliders_are_one_display_with_the_widget_and_a_static_picture(shipped):
    import base64
    import io

    view = explore.sliders(shipped, display_it=False)
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.widget.model_id
    static = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert static.width > 150 and static.height > 200
    z1, z2, label = view.widget.children[0].children
    title, image = view.widget.children[1].children
    assert (z1.description, z2.description, label.description) == ("z1", "z2", "label")
    assert label.max == 9 and z1.min == -3.0 and label.value == 5
    before_png, before_title = image.value, title.value
    assert "z = (0.0, 0.0)" in before_title
    z1.value = 1.5  # as a user moves it: the digit and its title are drawn again
    assert image.value != before_png and "label 5, z = (1.5, 0.0)" in title.value
    drawn = np.asarray(Image.open(io.BytesIO(image.value)))[::8, ::8]
    expected = shipped.generate(np.array([[1.5, 0.0]], "float32"), [5])[0, ..., 0]
    np.testing.assert_array_equal(drawn, 255 - np.round(expected * 255).astype("uint8"))


def test_static_grid_rows_are_labels_and_columns_z1(shipped):
    grid = explore.static_grid(shipped, z1_values=(-1.0, 0.0, 1.0), labels=[2, 7])
    assert grid.shape == (2 * 28, 3 * 28)
    z = np.array([[0.0, 0.0]], "float32")
    np.testing.assert_array_equal(grid[28:56, 28:56], shipped.generate(z, [7])[0, ..., 0])


def test_style_grid_draws_one_z_per_row_for_every_label(shipped):
    fig = explore.style_grid(shipped, n_styles=3, seed=1)
    picture = fig.axes[0].images[0].get_array()
    assert picture.shape == (3 * 28, 10 * 28)
    z = np.random.default_rng(1).standard_normal((3, 2)).astype("float32")
    np.testing.assert_allclose(picture[28:56, 4 * 28:5 * 28], shipped.generate(z[1:2], [4])[0, ..., 0])


def test_latent_walk_goes_there_and_back_and_writes_a_gif(shipped, tmp_path):
    digits = explore.latent_walk(shipped, label=3, start=(-1, 0), end=(1, 0), steps=5, path=tmp_path / "walk.gif")
    assert digits.shape == (8, 28, 28)  # start .. end (5), then back without repeating either end
    np.testing.assert_array_equal(digits[0], shipped.generate(np.array([[-1, 0]], "float32"), [3])[0, ..., 0])
    np.testing.assert_array_equal(digits[4], shipped.generate(np.array([[1, 0]], "float32"), [3])[0, ..., 0])
    np.testing.assert_array_equal(digits[3], digits[5])
    with Image.open(tmp_path / "walk.gif") as im:
        assert im.n_frames == 8 and im.width == 112


@pytest.mark.parametrize("call, match", [
    (lambda g: explore.latent_walk(g, label=10), "label"),
    (lambda g: explore.latent_walk(g, label=1, start=(0, 0, 0)), "two numbers"),
    (lambda g: explore.style_grid(g, n_styles=0), "n_styles"),
])
def test_explore_rejects_bad_input(shipped, call, match):
    with pytest.raises(ValueError, match=match):
        call(shipped)


def test_explore_needs_a_conditional_generator():
    gan = cgan.load_generator("gan")
    with pytest.raises(ValueError, match="conditional generator"):
        explore.static_grid(gan)
    gan.close()


def test_diagrams_draw_the_articles_pictures():
    for fig in (diagrams.gan_scheme(), diagrams.cgan_scheme(), diagrams.gradient_flow("d"),
                diagrams.gradient_flow("g")):
        texts = " ".join(t.get_text() for t in fig.axes[0].texts)
        assert "generator" in texts and "discriminator" in texts
    assert "L_{dis}" in " ".join(t.get_text() for t in diagrams.gradient_flow("d").axes[0].texts)
    assert "L_{gen}" in " ".join(t.get_text() for t in diagrams.gradient_flow("g").axes[0].texts)
    assert "label" in " ".join(t.get_text() for t in diagrams.cgan_scheme().axes[0].texts)
    learning = diagrams.learning_picture()
    assert len(learning.axes) == 4
    # the last panel is the optimum: the generator's density on the data's, D = 1/2
    d_line = [line for line in learning.axes[3].lines if line.get_linestyle() == "--"][0]
    assert np.allclose(d_line.get_ydata(), d_line.get_ydata()[0])
    with pytest.raises(ValueError, match="step"):
        diagrams.gradient_flow("x")
