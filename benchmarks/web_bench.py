"""Benchmark of the static page web/index.html in headless Chromium, opened from file://.

    python benchmarks/web_bench.py                       # 30 digits, 7 grids; prints a table
    python benchmarks/web_bench.py --digits 3 --grids 1  # smoke test
    python benchmarks/web_bench.py --screenshot figs/web_page.png   # also the README's picture of the page

It measures, in the page itself (``performance.now()``):

- a digit's redraw: what one move of a z slider costs on the page's thread (the forward pass,
  the canvas and the marker), ``--digits`` times at different z;
- a full 15x15 manifold: from the label slider's move to the grid's last row on the canvas
  (drawn by the page's Web Workers while the page stays free), ``--grids`` times, a label each;
- ``window.cgan.generate`` alone on the page's thread, and the number of workers the page used;

and prints min, median and max; ``--out`` writes them as JSON. Needs Debian's ``chromium`` and
``chromium-driver`` and the ``selenium`` package (the test extras).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

DIGIT = """
const [n] = arguments, z1 = document.getElementById('z1'), times = [];
for (let k = 0; k < n; k++) {
  const t0 = performance.now();
  z1.value = String(-2.5 + 5 * k / Math.max(1, n - 1));
  z1.dispatchEvent(new Event('input'));
  times.push(performance.now() - t0);
}
return times;
"""
GENERATE = """
const [n] = arguments, times = [];
for (let k = 0; k < n; k++) {
  const t0 = performance.now();
  window.cgan.generate('cgan', 0.1 * k, -0.1 * k, k % 10);
  times.push(performance.now() - t0);
}
return times;
"""


def summary(values: list[float]) -> dict:
    return {"n": len(values), "min_ms": min(values), "median_ms": statistics.median(values), "max_ms": max(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits", type=int, default=30, help="digit redraws timed (default 30)")
    parser.add_argument("--grids", type=int, default=7, help="full manifolds timed (default 7)")
    parser.add_argument("--page", default=str(ROOT / "web" / "index.html"), help="the page (default web/index.html)")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--screenshot", help="save a PNG of the page here (after the runs)")
    args = parser.parse_args(argv)
    for name in ("digits", "grids"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    from browser import CHROMEDRIVER, CHROMIUM, chromium, wait

    if not (CHROMIUM and CHROMEDRIVER):
        parser.error("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    with tempfile.TemporaryDirectory(prefix="cgan-web-bench-") as tmp:
        driver = chromium(Path(tmp) / "chromium", window="1400,860")
        try:
            page = Path(args.page).resolve()
            start = time.perf_counter()
            driver.get(page.as_uri())
            grid_done = lambda k: wait(f"grid {k}", lambda: driver.execute_script(  # noqa: E731
                "return document.getElementById('manifold').dataset.grid") == str(k), timeout=120)
            grid_done(1)
            load_s = time.perf_counter() - start
            driver.execute_script(GENERATE, 3)  # warm-up: the JIT compiles the forward pass
            generate = driver.execute_script(GENERATE, args.digits)
            digit = driver.execute_script(DIGIT, args.digits)
            grids = []
            for k in range(args.grids):
                driver.execute_script("const s = document.getElementById('label');"
                                      "s.value = String(arguments[0]); s.dispatchEvent(new Event('input'));", k % 10)
                grid_done(k + 2)
                grids.append(float(driver.execute_script("return document.getElementById('manifold').dataset.ms")))
            workers = driver.execute_script("return window.cgan.workers")
            agent = driver.execute_script("return navigator.userAgent")
            if args.screenshot:
                driver.execute_script("for (const [id, v] of [['z1', '0.5'], ['z2', '-0.4'], ['label', '3']]) {"
                                      "const s = document.getElementById(id); s.value = v;"
                                      "s.dispatchEvent(new Event('input')); }")
                grid_done(args.grids + 2)
                driver.save_screenshot(args.screenshot)
        finally:
            driver.quit()
    result = {"machine": f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores",
              "browser": agent, "workers": workers, "page_load_to_first_grid_s": load_s,
              "digit_redraw": summary(digit), "generate": summary(generate), "grid": summary(grids)}
    rows = [("digit redraw (z slider)", result["digit_redraw"]), ("window.cgan.generate", result["generate"]),
            (f"15x15 manifold ({workers} workers)", result["grid"])]
    print("| what | n | min | median | max |\n| --- | --- | --- | --- | --- |")
    for name, s in rows:
        print(f"| {name} | {s['n']} | {s['min_ms']:.1f} ms | {s['median_ms']:.1f} ms | {s['max_ms']:.1f} ms |")
    print(f"page load to the first grid: {load_s:.2f} s; {agent}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
