"""The benchmark runs (at tiny settings: CI proves it works; it asserts no timings)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--batch-size", "8", "--rounds",
                           "1", "--steps", "1", "--snapshots", "2", "--out", str(out), "--run-dir", str(tmp_path), "--profile", "--tensorboard-blocks", "2"],
                          capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["steps"]) == {"ours", "article layers", "ours, 16-bit dropout masks (opt-in)",
                                    "ours, bf16 (opt-in)", "ours, bf16 + 16-bit masks (opt-in)", "Keras 3 (cgan.keras3)"}
    for variant in result["steps"].values():
        for key in "dg":
            assert variant[key]["n"] == 1 and variant[key]["median_ms"] > 0 and variant[key]["ratio_to_peer"] > 0
    assert result["model_gflop_per_step"]["d"] > 0 and result["peak_gflops"]["matmul_2048"] > 0
    assert result["gifs_frames_per_label"] == 2 and result["peak_rss_mib"] > 0
    assert "Keras 3 (cgan.keras3)" in proc.stdout and "peak resident memory" in proc.stdout
    for key in "dg":  # the per-op profile: the step's ops by summed time
        top = result["profile"][key]["top"]
        assert len(top) == 15 and all(row["ms"] >= 0 and row["op"] for row in top)
        assert [row["ms"] for row in top] == sorted((row["ms"] for row in top), reverse=True)
        assert any(row["kind"] in ("Conv2D", "_MklNativeConv2D", "_MklNativeConv2DWithBias", "MatMul",
                                   "_MklNativeFusedConv2D", "Conv2DBackpropFilter") for row in top)
    cost = result["tensorboard_cost"]
    assert cost["blocks"] == 1 and cost["median_block_s_on"] > 0 and cost["ratio_on_to_off"] > 0
    assert "profile of one D step" in proc.stdout
    assert proc.stderr == "", proc.stderr[-3000:]  # only its table: no TensorFlow start-up or oneDNN lines
