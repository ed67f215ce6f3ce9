"""Settings presets: the article's printed code (the defaults) and the numbers that drew its
published figures (msurtsukov/ae_vae_gan be4bd16), the preset figure-time, once called published."""
import json

import pytest

import cgan
from cgan.cli import default_dirs, main


def test_the_figure_time_preset_holds_the_figure_time_numbers():
    figure_time = cgan.Settings.figure_time()
    assert (figure_time.lr_dis, figure_time.k_step) == (1e-3, 10)
    assert figure_time == cgan.Settings.preset("figure-time") == cgan.Settings(lr_dis=1e-3, k_step=10)
    assert cgan.PRESETS["figure-time"] == {"lr_dis": 1e-3, "k_step": 10} and set(cgan.PRESETS) == {"printed",
                                                                                                 "figure-time"}
    # nothing else moves: the generator's rate, the exits, the sizes stay the printed ones
    printed = cgan.Settings().to_dict()
    changed = {k for k, v in figure_time.to_dict().items() if printed[k] != v}
    assert changed == {"lr_dis", "k_step"}


def test_the_old_name_published_still_works():
    assert cgan.PRESET_ALIASES == {"published": "figure-time"}
    assert cgan.preset_name("published") == cgan.preset_name("figure-time") == "figure-time"
    assert cgan.preset_name("printed") == "printed"
    assert cgan.Settings.preset("published") == cgan.Settings.published() == cgan.Settings.figure_time()
    assert cgan.Settings.published(seed=3) == cgan.Settings.preset("published", seed=3) == \
        cgan.Settings.figure_time(seed=3)


def test_the_defaults_are_the_printed_preset_and_unchanged():
    assert cgan.Settings.preset("printed") == cgan.Settings()
    assert (cgan.Settings().lr_dis, cgan.Settings().k_step, cgan.Settings().lr_gen) == (1e-4, 5, 3e-4)
    assert cgan.PRESETS["printed"] == {}


def test_changes_apply_over_a_preset_and_are_checked():
    s = cgan.Settings.figure_time(seed=3, k_step=7)
    assert (s.lr_dis, s.k_step, s.seed) == (1e-3, 7, 3)
    with pytest.raises(ValueError, match="unknown setting"):
        cgan.Settings.figure_time(nope=1)


@pytest.mark.parametrize("name", ["publish", "", None, "Published", "figure_time"])
def test_an_unknown_preset_is_a_value_error_listing_the_known_ones(name):
    known = r"unknown preset .*known presets: figure-time, printed; aliases: published \(= figure-time\)"
    with pytest.raises(ValueError, match=known):
        cgan.Settings.preset(name)
    with pytest.raises(ValueError, match=known):
        cgan.preset_name(name)


def test_the_cli_refuses_an_unknown_preset(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["figures", "--preset", "publishd"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "'publishd' is unknown" in err and "figure-time, printed" in err
    assert "aliases: published (= figure-time)" in err


def test_the_cli_help_says_what_each_preset_is(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert ("printed: the code the article prints (the default); figure-time: the numbers that drew its figures "
            "(alias: published)") in out


def test_a_presets_runs_and_figures_go_beside_the_printed_ones():
    assert default_dirs("figures") == ("runs", "figs")
    assert default_dirs("study") == ("runs/study", "figs/study")
    for name in ("figure-time", "published"):  # an alias's folders are its preset's
        assert default_dirs("figures", name) == ("runs/figure-time", "figs/figure-time")
        assert default_dirs("study", name) == ("runs/study-figure-time", "figs/study-figure-time")


def test_train_with_the_preset_trains_at_its_numbers_and_set_wins(tmp_path):
    run = tmp_path / "run"
    code = main(["train", "--preset", "figure-time", "--iterations", "0", "--batch-size", "16", "--seed", "1",
                 "--set", "grid_size=3", "--set", "lr_gen=5e-4", "--run-dir", str(run), "--no-progress"])
    assert code == 0
    saved = json.loads((run / "settings.json").read_text())
    assert (saved["lr_dis"], saved["k_step"], saved["lr_gen"]) == (1e-3, 10, 5e-4)


def test_train_with_the_preset_and_no_run_dir_trains_beside_the_printed_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--preset", "published", "--unconditional", "--iterations", "0", "--batch-size", "16",
                 "--seed", "1", "--set", "grid_size=3", "--no-progress"]) == 0
    # the old name trains where the preset's name does: runs/figure-time/gan
    assert json.loads((tmp_path / "runs" / "figure-time" / "gan" / "settings.json").read_text())["k_step"] == 10
    assert not (tmp_path / "runs" / "cgan").exists() and not (tmp_path / "runs" / "published").exists()
