"""Benchmark of the training steps, snapshots and GIFs, side by side with the modern way.

    python benchmarks/bench.py                      # the article's batch 256, 5 rounds
    python benchmarks/bench.py --batch-size 16 --rounds 1 --steps 1 --snapshots 3   # smoke test

In one run, interleaved round by round after a warm-up, it measures the ms per
discriminator and per generator step of

- ``ours``: our TF1 graph as it trains by default (fused upsampling convolutions, D's first
  convolution back-propagating through space-to-depth);
- ``article layers``: the same graph with the article's plain layers;
- ``ours, 16-bit dropout masks``: dropout decided from 16 random bits a unit (rate
  0.3000031 instead of 0.3; opt-in);
- ``ours, bf16``: ours with oneDNN's bfloat16 auto mixed precision (changes the numerics;
  off by default; fast only on CPUs with AVX512_BF16 or AMX), alone and with 16-bit masks;
- ``Keras 3 (cgan.keras3)``, the peer: the same model and algorithm as one writes it today,
  Keras 3 with a ``tf.function`` + ``GradientTape`` step per network (``cgan.keras3``), in
  its own process (benchmarks/peer_keras3.py);

with medians and min-max over rounds and the ratios to the peer; the machine's fp32
peak (a 2048x2048 matmul and the generator's main 5x5 convolution) and the fraction
of it each step reaches, from the article model's FLOP count; the time of one
snapshot (all 10 labels) and of writing all GIFs from the article's 115 snapshots;
the mean D and G steps per iteration of a real run (``--run-dir``); and peak
resident memory. Prints a table and writes JSON (``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# as the CLI: TensorFlow's C++ informational and warning lines (the oneDNN bfloat16 rewrite's notices among
# them) stay hidden, unless the caller chose a level; then TensorFlow through cgan's quiet import
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cgan  # noqa: E402
from cgan import tf  # noqa: E402
from cgan import statefile  # noqa: E402
from cgan.data import mnist_path  # noqa: E402
from cgan.manifold import batch_titles, write_gif  # noqa: E402


def model_macs(settings: cgan.Settings) -> dict[str, float]:
    """Multiply-adds per image of the article's layers (plain upsampling), forward."""
    c = settings.num_classes if settings.conditional else 0
    g = ((settings.latent_dim + c) * 7 * 7 * 64 + 14 * 14 * 25 * 64 * 64 + 14 * 14 * 9 * 64 * 32
         + 28 * 28 * 25 * 32 * 1)
    d = 14 * 14 * 49 * 1 * 128 + 7 * 7 * 9 * (128 + c) * 128 + 7 * 7 * 128
    return {"G_forward": g, "D_forward": d}


def step_flops(settings: cgan.Settings) -> dict[str, float]:
    """FLOPs of one step at the settings' batch size (backward counted as twice forward).

    D step: G forward, D forward on real and generated images, D backward on both.
    G step: G and D forward, D backward to its input (about one forward), G backward.
    """
    m = model_macs(settings)
    g, d = m["G_forward"], m["D_forward"]
    per_image = {"d": g + 2 * d + 2 * 2 * d, "g": g + d + d + 2 * g}
    return {k: 2 * v * settings.batch_size for k, v in per_image.items()}


def stats(times: list[float]) -> dict[str, float]:
    ms = np.asarray(times) * 1000
    return {"median_ms": float(np.median(ms)), "min_ms": float(ms.min()), "max_ms": float(ms.max()), "n": len(ms)}


def measure_peak(rounds: int) -> dict[str, float]:
    """fp32 GFLOP/s of a 2048x2048 matmul and of the generator's 5x5 conv at batch 256."""
    graph = tf.Graph()
    with graph.as_default():
        sess = tf.compat.v1.Session(graph=graph)
        rng = np.random.default_rng(0)
        # variables, not constants: grappler would fold a product of constants away
        a = tf.compat.v1.Variable(rng.standard_normal((2048, 2048), "float32"))
        mm = tf.reduce_sum(tf.matmul(a, a))
        x = tf.compat.v1.Variable(rng.standard_normal((256, 14, 14, 64), "float32"))
        k = tf.compat.v1.Variable(rng.standard_normal((5, 5, 64, 64), "float32"))
        conv = tf.reduce_sum(tf.nn.conv2d(x, k, 1, "SAME"))
        sess.run(tf.compat.v1.global_variables_initializer())
        out = {}
        for name, op, flops in (("matmul_2048", mm, 2 * 2048 ** 3), ("generator_conv5x5", conv,
                                                                     2 * 256 * 14 * 14 * 25 * 64 * 64)):
            sess.run(op)
            times = []
            for _ in range(max(3, rounds)):
                t = time.perf_counter()
                sess.run(op)
                times.append(time.perf_counter() - t)
            out[name] = flops / float(np.median(times)) / 1e9
        sess.close()
    return out


def profile_steps(graph: cgan.GANGraph, x, y, z, runs: int = 3, top: int = 15) -> dict:
    """Per-op profile of one D and one G step: each op's time (``RunOptions`` FULL_TRACE,
    from its start to its end, summed over the step's ops of that name and averaged over
    ``runs`` traced steps). Ops run two at a time on two cores, so the sum exceeds the step's
    wall time. Returns, per step, the summed time and the ``top`` ops by time."""
    from collections import Counter

    table = {}
    for key, train_op in (("d", graph.step_dis), ("g", graph.step_gen)):
        per_op: Counter = Counter()
        kinds: dict[str, str] = {}
        for _ in range(runs):
            meta = tf.compat.v1.RunMetadata()
            options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
            graph.sess.run([graph.losses.L_dis, train_op], graph._feed(x, y, z, 1), options=options,
                           run_metadata=meta)
            for dev in meta.step_stats.dev_stats:
                for node in dev.node_stats:
                    per_op[node.node_name] += node.all_end_rel_micros / 1000 / runs
                    kinds[node.node_name] = node.timeline_label.split("=", 1)[-1].split("(", 1)[0].strip()
        table[key] = {"summed_ms": sum(per_op.values()),
                      "top": [{"op": name, "kind": kinds.get(name, ""), "ms": ms} for name, ms in per_op.most_common(top)]}
    return table


def tensorboard_cost(settings: cgan.Settings, blocks: int, data) -> dict:
    """Training time with and without the TensorBoard log, interleaved: two runs of the same
    settings and seed train ``blocks`` blocks of ``batches_per_period`` iterations each, in
    turn (each block ends with a snapshot, the log's images, and a checkpoint, the log's
    flush). Returns both runs' median block seconds and their ratio."""
    from cgan.training import prepare

    s = settings.replace(iterations=blocks * settings.batches_per_period, save_periods=tuple(range(blocks + 1)))
    times = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"off": prepare(s, Path(tmp) / "off", data=data),
                "on": prepare(s.replace(tensorboard=str(Path(tmp) / "tb")), Path(tmp) / "on", data=data)}
        for run in runs.values():  # warm-up: the first iteration and snapshot of each
            run.run_iteration()
        for _ in range(blocks - 1):
            for name, run in runs.items():
                t = time.perf_counter()
                for _ in range(s.batches_per_period):
                    run.run_iteration()
                times[name].append(time.perf_counter() - t)
        for run in runs.values():
            run.close()
            run.graph.close()
    off, on = (float(np.median(times[k])) for k in ("off", "on"))
    return {"blocks": blocks - 1, "iterations_per_block": s.batches_per_period, "median_block_s_off": off,
            "median_block_s_on": on, "ratio_on_to_off": on / off}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--steps", type=int, default=3, help="D and G steps per variant per round (default 3)")
    article = cgan.Settings()
    frames = sum(1 for p in article.save_periods if p * article.batches_per_period < article.iterations)
    p.add_argument("--snapshots", type=int, default=frames, help=f"GIF frames per label (article: {frames})")
    p.add_argument("--run-dir", default="runs/cgan", help="a run whose history gives the mean steps per iteration")
    p.add_argument("--out", default="benchmarks/results.json")
    p.add_argument("--no-peer", action="store_true", help="skip the Keras 3 peer")
    p.add_argument("--tensorboard-blocks", type=int, default=0, metavar="N",
                   help="also time training with and without the TensorBoard log, N interleaved blocks of 20 "
                        "iterations each (default 0: skip)")
    p.add_argument("--profile", action="store_true", help="also print and store a per-op profile of one D and one "
                                                          "G step of the default graph (top ops by summed time)")
    args = p.parse_args(argv)
    if args.batch_size < 1 or args.rounds < 1 or args.steps < 1 or args.snapshots < 1:
        p.error("--batch-size, --rounds, --steps and --snapshots must be >= 1")

    settings = cgan.Settings(batch_size=args.batch_size, seed=0)
    data = cgan.load_data()
    x, y = data.x_train[:args.batch_size], data.y_train_cat[:args.batch_size]
    z = np.random.default_rng(0).standard_normal((args.batch_size, settings.latent_dim)).astype("float32")
    variants = {"ours": cgan.GANGraph(settings),
                "article layers": cgan.GANGraph(settings.replace(fused_upsampling=False, fast_stride2_grad=False)),
                "ours, 16-bit dropout masks (opt-in)": cgan.GANGraph(settings.replace(dropout_mask_bits=16)),
                "ours, bf16 (opt-in)": cgan.GANGraph(settings.replace(precision="bf16")),
                "ours, bf16 + 16-bit masks (opt-in)": cgan.GANGraph(settings.replace(precision="bf16",
                                                                                      dropout_mask_bits=16))}
    times = {name: {"d": [], "g": []} for name in [*variants, "Keras 3 (cgan.keras3)"]}

    peer = None
    if not args.no_peer:
        peer = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "peer_keras3.py"),
                                 str(mnist_path()), str(args.batch_size)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        json.loads(peer.stdout.readline())  # ready: traced and warmed up
    for g in variants.values():  # warm-up
        g.step_d(x, y, z)
        g.step_g(x, y, z)

    for _ in range(args.rounds):
        for name, g in variants.items():
            for key, step in (("d", g.step_d), ("g", g.step_g)):
                for _ in range(args.steps):
                    t = time.perf_counter()
                    step(x, y, z)
                    times[name][key].append(time.perf_counter() - t)
        if peer is not None:
            peer.stdin.write(f"{args.steps}\n")
            peer.stdin.flush()
            got = json.loads(peer.stdout.readline())
            for key in "dg":
                times["Keras 3 (cgan.keras3)"][key] += got[key]
    if peer is not None:
        peer.stdin.write("quit\n")
        peer.stdin.flush()
        peer.wait(timeout=60)
    else:
        del times["Keras 3 (cgan.keras3)"]

    flops = step_flops(settings)
    peak = measure_peak(args.rounds)
    steps = {name: {k: stats(v) for k, v in t.items()} for name, t in times.items()}
    for name, t in steps.items():
        for key in "dg":
            t[key]["gflops"] = flops[key] / t[key]["median_ms"] * 1e-6
            t[key]["fraction_of_matmul_peak"] = t[key]["gflops"] / peak["matmul_2048"]
            if "Keras 3 (cgan.keras3)" in steps:
                t[key]["ratio_to_peer"] = t[key]["median_ms"] / steps["Keras 3 (cgan.keras3)"][key]["median_ms"]

    # snapshots and GIFs at the article's settings
    ours = variants["ours"]
    snap_times = []
    for _ in range(max(3, args.rounds)):
        t = time.perf_counter()
        figures = cgan.manifold.to_uint8(cgan.draw_manifolds(ours))
        with tempfile.TemporaryFile() as fh:
            np.savez_compressed(fh, figures=figures, period=0)
        snap_times.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        frames = [np.clip(f.astype(int) + rng.integers(-3, 4, f.shape), 0, 255).astype("uint8")
                  for f in [figures] * args.snapshots]  # slightly different frames, as in training
        periods = list(cgan.ARTICLE_SAVE_PERIODS[:args.snapshots])
        t = time.perf_counter()
        for label in range(settings.num_classes):
            write_gif([f[label] for f in frames], batch_titles(label, periods, 20), Path(tmp) / f"{label}.gif",
                      settings.gif_frame_ms, settings.gif_grey_levels)
        gif_seconds = time.perf_counter() - t
        gif_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6

    profile = profile_steps(ours, x, y, z) if args.profile else None
    tb_cost = tensorboard_cost(settings, args.tensorboard_blocks, data) if args.tensorboard_blocks else None

    mean_steps = None
    ckpts = sorted((Path(args.run_dir) / "checkpoints").glob("ckpt-*[0-9]"))
    if ckpts:
        h = statefile.read(ckpts[-1])["history"]
        mean_steps = {"iterations": len(h["d_steps"]), "d": float(np.mean(h["d_steps"])),
                      "g": float(np.mean(h["g_steps"])), "run_dir": args.run_dir}

    result = {
        "command": "python benchmarks/bench.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
        "batch_size": args.batch_size, "rounds": args.rounds, "steps_per_round": args.steps,
        "model_gflop_per_step": {k: v / 1e9 for k, v in flops.items()},
        "peak_gflops": peak, "steps": steps,
        "snapshot_seconds": stats(snap_times)["median_ms"] / 1000,
        "gifs_seconds": gif_seconds, "gifs_frames_per_label": args.snapshots, "gifs_megabytes": gif_mb,
        "mean_steps_per_iteration": mean_steps,
        "profile": profile,
        "tensorboard_cost": tb_cost,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))

    print(f"batch {args.batch_size}, {args.rounds} interleaved rounds x {args.steps} steps; medians (min-max)")
    print(f"{'variant':<36} {'D step ms':>22} {'G step ms':>22} {'D/peer':>7} {'G/peer':>7} {'D %peak':>8} "
          f"{'G %peak':>8}")
    for name, t in steps.items():
        d, g = t["d"], t["g"]
        cell = lambda s: f"{s['median_ms']:.0f} ({s['min_ms']:.0f}-{s['max_ms']:.0f})"  # noqa: E731
        print(f"{name:<36} {cell(d):>22} {cell(g):>22} {d.get('ratio_to_peer', float('nan')):>7.2f} "
              f"{g.get('ratio_to_peer', float('nan')):>7.2f} {100 * d['fraction_of_matmul_peak']:>7.0f}% "
              f"{100 * g['fraction_of_matmul_peak']:>7.0f}%")
    print(f"peak fp32: matmul {peak['matmul_2048']:.0f} GFLOP/s, generator conv {peak['generator_conv5x5']:.0f} "
          f"GFLOP/s; model {flops['d'] / 1e9:.1f} GFLOP per D step, {flops['g'] / 1e9:.1f} per G step")
    print(f"one snapshot (10 labels): {result['snapshot_seconds']:.2f} s; all GIFs ({args.snapshots} frames x 10): "
          f"{gif_seconds:.1f} s, {gif_mb:.1f} MB")
    if mean_steps:
        print(f"mean steps per iteration in {args.run_dir} ({mean_steps['iterations']} iterations): "
              f"D {mean_steps['d']:.2f}, G {mean_steps['g']:.2f}")
    if profile:
        for key, name in (("d", "D step"), ("g", "G step")):
            print(f"profile of one {name} (ops overlap on the cores; summed {profile[key]['summed_ms']:.0f} ms):")
            for row in profile[key]["top"]:
                print(f"  {row['ms']:7.1f} ms  {row['kind']:<28} {row['op']}")
    if tb_cost:
        print(f"TensorBoard log: {tb_cost['median_block_s_on']:.2f} s vs {tb_cost['median_block_s_off']:.2f} s per "
              f"block of {tb_cost['iterations_per_block']} iterations with a snapshot (median of "
              f"{tb_cost['blocks']}): x{tb_cost['ratio_on_to_off']:.3f}")
    print(f"peak resident memory: {result['peak_rss_mib']:.0f} MiB; JSON: {out}")
    return result


if __name__ == "__main__":
    main()
