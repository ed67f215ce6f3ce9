"""A seeded golden run: proof that a change leaves training the same, bit for bit.

    python tests/golden_run.py OUT.json                 # CGAN and GAN, 40 iterations, batch 64, seed 2017
    python tests/golden_run.py OUT.json --iterations 10 # shorter

It trains the CGAN and the plain GAN from empty run folders (with the averaged generator's
decays 0.99 and 0.999 on, snapshots at every period, figures written), then writes the sha256
of every graph variable (the networks' weights and the RMSProp slots, read from the session at
the end), every snapshot, every figure, every array of ``generator.npz`` (the trained weights
and both averages), and the loop's history and step counts. Run it before and after a change
(for the code before it, from a ``git worktree`` of that commit, with ``PYTHONPATH`` set there)
and compare the two files: ``cmp before.json after.json``. Not a test of the suite: it takes
about two minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def array_sha(value) -> str:
    value = np.ascontiguousarray(value)
    return sha(str((value.dtype.str, value.shape)).encode() + value.tobytes())


def golden(kind: str, iterations: int, batch_size: int, seed: int, folder: Path) -> dict:
    import cgan
    from cgan._tf import tf

    settings = cgan.Settings(conditional=kind == "cgan", iterations=iterations, batch_size=batch_size, seed=seed,
                             batches_per_period=5, ema_decay=(0.99, 0.999), threads=1)
    run_dir, figs_dir = folder / kind / "run", folder / kind / "figs"
    figs_dir.mkdir(parents=True)
    trainer = cgan.train(settings, run_dir, figs_dir=str(figs_dir), progress=False)
    try:
        graph = trainer.graph
        with graph.graph.as_default():
            variables = tf.compat.v1.global_variables()
        values = graph.sess.run(variables)
        out = {"variables": {v.name: array_sha(x) for v, x in zip(variables, values)}}
        history = trainer.history
    finally:
        trainer.close()
    out["history"] = sha(json.dumps({k: [float(x) for x in getattr(history, k)] for k in ("l_dis", "d_steps", "g_steps")},
                                    sort_keys=True).encode())
    out["snapshots"] = {p.name: {k: array_sha(a) for k, a in np.load(p).items()}
                        for p in sorted((run_dir / "snapshots").iterdir())}
    out["figures"] = {p.name: sha(p.read_bytes()) for p in sorted(figs_dir.iterdir())}
    with np.load(run_dir / "generator.npz") as npz:
        out["generator"] = {k: array_sha(npz[k]) for k in sorted(npz.files) if k != "settings"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the JSON file of hashes to write")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cgan-golden-") as tmp:
        result = {kind: golden(kind, args.iterations, args.batch_size, args.seed, Path(tmp)) for kind in ("cgan", "gan")}
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True))
    counts = {kind: {k: len(v) if isinstance(v, dict) else 1 for k, v in r.items()} for kind, r in result.items()}
    print(f"{args.out}: {counts}; digest {sha(json.dumps(result, sort_keys=True).encode())[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
