"""cgan.snapshots: a period's pictures stored whole and read back; those after a resumed
checkpoint dropped."""
import numpy as np

from cgan import snapshots


def test_snapshots_round_trip_and_are_dropped_after_a_resume(tmp_path):
    pictures = {p: np.full((10, 84, 84), p, "uint8") for p in (0, 1, 5)}
    for period, figures in pictures.items():
        snapshots.write_snapshot(tmp_path, period, figures)
    periods, figures = snapshots.read_snapshots(tmp_path)
    assert periods == [0, 1, 5] and figures.shape == (3, 10, 84, 84)
    assert [int(f[0, 0, 0]) for f in figures] == [0, 1, 5]
    assert snapshots.read_snapshots(tmp_path, [5])[1][0, 0, 0, 0] == 5
    assert not list((tmp_path / snapshots.SNAPSHOTS).glob("*.tmp"))
    snapshots.drop_snapshots_except(tmp_path, [0, 1])  # the checkpoint resumed from had drawn these
    assert snapshots.read_snapshots(tmp_path)[0] == [0, 1]
    assert snapshots.read_snapshots(tmp_path / "none")[0] == []
