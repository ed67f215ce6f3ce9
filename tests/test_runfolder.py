"""cgan.runfolder: what a folder holds decides whether a run may open in it."""
import json

import pytest

import cgan
from cgan import runfolder


def test_saved_settings_say_what_is_missing_or_unreadable(tmp_path):
    with pytest.raises(FileNotFoundError, match="settings.json not found: .* holds no run"):
        runfolder.saved_settings(tmp_path)
    (tmp_path / runfolder.SETTINGS_FILE).write_text(json.dumps({"batch_size": 0}))
    with pytest.raises(ValueError, match=r"settings.json is unreadable \(Settings.batch_size=0 is invalid"):
        runfolder.saved_settings(tmp_path)
    (tmp_path / runfolder.SETTINGS_FILE).write_text(json.dumps({"seed": 3}))  # settings added later: defaults
    assert runfolder.saved_settings(tmp_path) == cgan.Settings(seed=3)


def test_a_folder_holding_another_run_is_refused_unless_overwritten(tmp_path, small_data):
    settings = cgan.Settings(seed=0, batch_size=16)
    runfolder.open_run(settings, tmp_path, data=small_data).close()
    with pytest.raises(ValueError, match=r"holds another run \(its settings differ in \['lr_dis'\]\)"):
        runfolder.open_run(settings.replace(lr_dis=5e-5), tmp_path, data=small_data)
    run = runfolder.open_run(settings.replace(threads=1, iterations=9), tmp_path, data=small_data)  # free settings
    run.close()
    (tmp_path / runfolder.CHECKPOINTS).mkdir()
    with pytest.raises(ValueError, match="already holds a run's checkpoints"):
        runfolder.open_run(settings, tmp_path, resume=False, data=small_data)
    runfolder.open_run(settings.replace(lr_dis=5e-5), tmp_path, overwrite=True, data=small_data).close()
    assert runfolder.saved_settings(tmp_path).lr_dis == 5e-5 and not (tmp_path / runfolder.CHECKPOINTS).exists()


def test_bad_data_is_named_before_the_folder_is_touched(tmp_path):
    from cgan.runlock import RunLock

    with pytest.raises(ValueError, match="data must be a cgan.data.MNIST"):
        runfolder.open_run(cgan.Settings(batch_size=16), tmp_path / "run", data=[1, 2])
    assert not (tmp_path / "run").exists()  # no settings.json that would pass for a run's
    assert str((tmp_path / "run" / ".lock").resolve()) not in RunLock._held  # and no lock held


def test_a_failed_open_lets_the_lock_go(tmp_path, small_data):
    from cgan.runlock import RunLock

    settings = cgan.Settings(seed=0, batch_size=16)
    runfolder.open_run(settings, tmp_path, data=small_data).close()
    with pytest.raises(ValueError, match="holds another run"):
        runfolder.open_run(settings.replace(lr_dis=5e-5), tmp_path, data=small_data)
    assert str((tmp_path / ".lock").resolve()) not in RunLock._held
