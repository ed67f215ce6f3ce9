import numpy as np
import pytest
from PIL import Image
from scipy.stats import norm

import cgan
from cgan.manifold import batch_titles, frame_image


def test_grid_is_the_articles_normal_quantiles():
    g = cgan.grid(cgan.Settings())
    np.testing.assert_allclose(g, norm.ppf(np.linspace(0.05, 0.95, 15)))
    assert g[0] < 0 < g[-1] and g[7] == pytest.approx(0)


def test_manifold_z_rows_take_z1_and_columns_z0():
    s = cgan.Settings(grid_size=4, latent_dim=3)
    g = cgan.grid(s)
    z = cgan.manifold_z(s).reshape(4, 4, 3)
    for i in range(4):
        for j in range(4):
            np.testing.assert_allclose(z[i, j], [g[j], g[i], 0.0], rtol=1e-6)


def test_tile_lays_digits_out_row_major():
    digits = np.stack([np.full((28, 28), k, "float32") for k in range(9)])
    fig = cgan.tile(digits, 3)
    assert fig.shape == (84, 84)
    for k in range(9):
        i, j = divmod(k, 3)
        assert np.all(fig[28 * i:28 * (i + 1), 28 * j:28 * (j + 1)] == k)
    with pytest.raises(ValueError, match="expected 9 digits"):
        cgan.tile(digits[:8], 3)
    wide = cgan.tile(digits[:6], 2, 3)  # 2 rows of 3
    assert wide.shape == (56, 84) and np.all(wide[28:, 56:] == 5) and np.all(wide[:28, 28:56] == 1)
    with pytest.raises(ValueError, match="expected 6 digits"):
        cgan.tile(digits, 2, 3)


def test_draw_manifolds_matches_per_digit_generation(cgan_graph):
    s = cgan_graph.settings
    figs = cgan.draw_manifolds(cgan_graph, labels=[3, 8])
    assert figs.shape == (2, 28 * s.grid_size, 28 * s.grid_size)
    g = cgan.grid(s)
    # the digit in row 1, column 2 of label 8's picture is G([g[2], g[1]], 8)
    one = cgan_graph.generate(np.array([[g[2], g[1]]]), [8])[0, :, :, 0]
    np.testing.assert_allclose(figs[1, 28:56, 56:84], one, atol=1e-6)
    assert not np.allclose(figs[0], figs[1])


def test_draw_manifolds_unconditional(gan_graph):
    assert cgan.draw_manifolds(gan_graph).shape == (1, 84, 84)
    with pytest.raises(ValueError, match="unconditional"):
        cgan.draw_manifolds(gan_graph, labels=[1])


def test_draw_manifolds_rejects_bad_labels(cgan_graph):
    with pytest.raises(ValueError, match=r"0\.\.9"):
        cgan.draw_manifolds(cgan_graph, labels=[10])


def test_gif_has_one_frame_per_snapshot(tmp_path):
    pictures = [np.full((84, 84), v, "uint8") for v in (0, 128, 255)]
    titles = batch_titles(4, [0, 1, 7], 20)
    assert titles[-1] == ["Label: 4", "Batch: 140"]
    path = cgan.write_gif(pictures, titles, tmp_path / "m.gif", frame_ms=100)
    with Image.open(path) as im:
        assert im.n_frames == 3
        assert im.info["duration"] == 100
        im.seek(2)
        frame = np.asarray(im.convert("L"))
    # the last frame's bottom-right corner is the picture: value 255 is black in Greys
    assert frame[-5:, -5:].max() < 10
    assert not list(tmp_path.glob("*.tmp*"))


def test_frame_uses_greys_on_zero_to_one():
    im = np.asarray(frame_image(np.array([[0.0, 1.0]] * 2, "float32"), ["t"]))
    assert im[-1, 0] == 255 and im[-1, 1] == 0
    ramp = np.linspace(0, 1, 300, dtype="float32")[None].repeat(2, 0)
    assert len(np.unique(np.asarray(frame_image(ramp, ["t"]))[-1])) > 100
    assert len(np.unique(np.asarray(frame_image(ramp, ["t"], levels=16))[-1])) <= 16


def test_write_gif_rejects_mismatched_titles(tmp_path):
    with pytest.raises(ValueError, match="titles"):
        cgan.write_gif([np.zeros((4, 4))], [], tmp_path / "x.gif")


def test_plot_manifold_writes_png(tmp_path):
    cgan.plot_manifold(np.random.default_rng(0).random((84, 84)), tmp_path / "m.png")
    with Image.open(tmp_path / "m.png") as im:
        assert im.format == "PNG" and min(im.size) > 100


def test_untile_inverts_tile():
    digits = np.arange(12 * 28 * 28, dtype="float32").reshape(12, 28, 28)
    np.testing.assert_array_equal(cgan.manifold.untile(cgan.tile(digits, 3, 4), 3, 4), digits)
    stack = np.stack([cgan.tile(digits[:9], 3), cgan.tile(digits[3:], 3)])
    np.testing.assert_array_equal(cgan.manifold.untile(stack, 3), np.stack([digits[:9], digits[3:]]))
    with pytest.raises(ValueError, match=r"expected pictures of 84 x 84 px \(3 x 3 cells of 28 px\)"):
        cgan.manifold.untile(np.zeros((84, 83)), 3)
