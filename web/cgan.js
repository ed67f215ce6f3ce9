// The shipped generators of `cgan`, run in the page: sliders for z and the label, the label's
// 15x15 manifold drawn the package's way, a click on it sets z. No library, nothing fetched:
// the weights come from weights/<model>.js (written by `python -m cgan web`).
//
// For scripts and tests: window.cgan.generate(model, z1, z2, label) returns the 784 grey values
// in [0, 1] of one digit (row-major 28x28, a Float32Array); window.cgan.models names the models.
"use strict";

// The forward pass: no DOM, so the same source also runs in the Web Workers that draw the grid.
function cganKernel() {
  const SIZE = 28;

  function decode(base64) {
    const bytes = atob(base64);
    const buffer = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
    return new Float32Array(buffer.buffer);  // little-endian float32, as written
  }

  // M[a][r][t] = 1 where tap t of a k x k 'same' convolution, at output phase a (0 or 1) of a
  // 2x nearest upsampling, reads low-resolution offset r (cgan.layers._phase_taps).
  function phaseTaps(k) {
    const pad = k >> 1, reach = (pad + 1) >> 1, r = 2 * reach + 1;
    const m = [0, 1].map(() => Array.from({length: r}, () => new Float64Array(k)));
    for (let a = 0; a < 2; a++) for (let t = 0; t < k; t++) m[a][Math.floor((a + t - pad) / 2) + reach][t] = 1;
    return {m, r};
  }

  // UpSampling2D(2) + a 'same' k x k Conv2D as one r x r convolution with 4x the filters
  // (cgan.layers.UpsampledConv2D): kernel (r, r, in, 4*out), output channel (a*2 + b)*out + o.
  function fuse(kernel, k, cin, cout) {
    const {m, r} = phaseTaps(k);
    const small = new Float32Array(r * r * cin * 4 * cout);
    for (let p = 0; p < r; p++) for (let q = 0; q < r; q++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
      for (let h = 0; h < k; h++) {
        if (!m[a][p][h]) continue;
        for (let w = 0; w < k; w++) {
          if (!m[b][q][w]) continue;
          for (let i = 0; i < cin; i++) {
            const src = ((h * k + w) * cin + i) * cout, dst = ((p * r + q) * cin + i) * 4 * cout + (a * 2 + b) * cout;
            for (let o = 0; o < cout; o++) small[dst + o] += kernel[src + o];
          }
        }
      }
    }
    return {kernel: small, r, cin, cout};
  }

  // A stride-1 'same' convolution of x (H, W, C) with kernel (k, k, C, O) into out (H, W, O),
  // channels last. Zero inputs (after a ReLU, about half) are skipped: exactly the same sum.
  function conv(x, H, W, C, kernel, k, O, out, acc) {
    const pad = (k - 1) >> 1;
    for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
      acc.fill(0);
      for (let dy = 0; dy < k; dy++) {
        const iy = y + dy - pad;
        if (iy < 0 || iy >= H) continue;
        for (let dx = 0; dx < k; dx++) {
          const ix = xx + dx - pad;
          if (ix < 0 || ix >= W) continue;
          const xb = (iy * W + ix) * C, kb = (dy * k + dx) * C * O;
          for (let c = 0; c < C; c++) {
            const v = x[xb + c];
            if (v === 0) continue;
            const wb = kb + c * O;
            for (let o = 0; o < O; o++) acc[o] += v * kernel[wb + o];
          }
        }
      }
      out.set(acc, (y * W + xx) * O);
    }
  }

  // The fused convolution's output (H, W, 4*out) put back at 2x resolution (depth_to_space),
  // plus the bias, through the activation.
  function upsampled(y, H, W, cout, bias, activation, out) {
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
      const src = (h * W + w) * 4 * cout + (a * 2 + b) * cout, dst = ((2 * h + a) * 2 * W + 2 * w + b) * cout;
      for (let o = 0; o < cout; o++) out[dst + o] = activation(y[src + o] + bias[o]);
    }
  }

  const relu = (v) => (v > 0 ? v : 0);
  const sigmoid = (v) => 1 / (1 + Math.exp(-v));

  // A model from its weights file's object: the arrays in Keras order (dense kernel, bias,
  // conv2d kernel, bias, conv2d_1 kernel, bias, conv2d_2 kernel, bias).
  function load(spec) {
    const flat = spec.data instanceof Float32Array ? spec.data : decode(spec.data);
    const arrays = [];
    let at = 0;
    for (const shape of spec.shapes) {
      const n = shape.reduce((p, d) => p * d, 1);
      arrays.push(flat.subarray(at, at + n));
      at += n;
    }
    if (at !== flat.length) throw new Error(`the weights hold ${flat.length} numbers, the shapes ${at}`);
    const [dense, denseBias, k1, b1, k2, b2, k3, b3] = arrays;
    const s = spec.shapes;
    return {
      spec, flat, conditional: spec.conditional, latentDim: spec.latent_dim, numClasses: spec.num_classes,
      dense, denseBias, units: s[0][1],
      up1: fuse(k1, s[2][0], s[2][2], s[2][3]), b1,
      k2, ks2: s[4][0], c2in: s[4][2], c2out: s[4][3], b2,
      up2: fuse(k3, s[6][0], s[6][2], s[6][3]), b3,
    };
  }

  // G(z, label) with dropout off: the 784 grey values of one digit in [0, 1].
  function generate(model, z, label) {
    const u = model.units, d = model.dense;
    const h0 = new Float32Array(u);                                          // Dense(7*7*64, relu)
    for (let j = 0; j < u; j++) {
      let v = model.denseBias[j];
      for (let i = 0; i < model.latentDim; i++) v += z[i] * d[i * u + j];
      if (model.conditional) v += d[(model.latentDim + label) * u + j];      // the one-hot label
      h0[j] = v > 0 ? v : 0;
    }
    const side = 7, c0 = u / (side * side);                                  // Reshape((7, 7, 64))
    const a = model.up1, y1 = new Float32Array(side * side * 4 * a.cout);
    conv(h0, side, side, c0, a.kernel, a.r, 4 * a.cout, y1, new Float64Array(4 * a.cout));
    const h1 = new Float32Array(4 * side * side * a.cout);                  // (14, 14, 64)
    upsampled(y1, side, side, a.cout, model.b1, relu, h1);
    const s2 = 2 * side, h2 = new Float32Array(s2 * s2 * model.c2out);      // Conv2D(32, 3x3, relu)
    conv(h1, s2, s2, model.c2in, model.k2, model.ks2, model.c2out, h2, new Float64Array(model.c2out));
    for (let p = 0; p < s2 * s2; p++) for (let o = 0; o < model.c2out; o++) {
      const v = h2[p * model.c2out + o] + model.b2[o];
      h2[p * model.c2out + o] = v > 0 ? v : 0;
    }
    const c = model.up2, y3 = new Float32Array(s2 * s2 * 4 * c.cout);
    conv(h2, s2, s2, c.cin, c.kernel, c.r, 4 * c.cout, y3, new Float64Array(4 * c.cout));
    const out = new Float32Array(SIZE * SIZE * c.cout);                      // (28, 28, 1), sigmoid
    upsampled(y3, s2, s2, c.cout, model.b3, sigmoid, out);
    return out;
  }

  // Rows [start, end) of a label's manifold: cell (i, j) takes z = (grid[j], grid[i]).
  function manifoldRows(model, label, start, end) {
    const grid = model.spec.grid, n = grid.length, out = new Float32Array((end - start) * n * SIZE * SIZE);
    for (let i = start; i < end; i++) for (let j = 0; j < n; j++) {
      const z = new Float64Array(model.latentDim);
      z[0] = grid[j];
      z[1] = grid[i];
      out.set(generate(model, z, label), ((i - start) * n + j) * SIZE * SIZE);
    }
    return out;
  }

  return {SIZE, decode, load, generate, manifoldRows};
}

if (typeof module !== "undefined") module.exports = cganKernel;  // node, for quick checks

(typeof window !== "undefined") && (function () {
  const K = cganKernel();
  const SIZE = K.SIZE;
  const specs = window.CGAN_WEIGHTS || {};
  const models = {};
  for (const name of Object.keys(specs)) models[name] = K.load(specs[name]);

  function model(name) {
    if (!(name in models)) throw new Error(`unknown model ${JSON.stringify(name)}; known: ${Object.keys(models).join(", ")}`);
    return models[name];
  }

  // The public contract: one digit's 784 grey values in [0, 1], row-major 28x28.
  function generate(name, z1, z2, label) {
    const m = model(name);
    for (const [what, v] of [["z1", z1], ["z2", z2]]) {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
    }
    if (m.conditional && !(Number.isInteger(label) && label >= 0 && label < m.numClasses)) {
      throw new Error(`label must be an integer in 0..${m.numClasses - 1}, got ${label}`);
    }
    const z = new Float64Array(m.latentDim);
    z[0] = z1;
    z[1] = z2;
    return K.generate(m, z, m.conditional ? label : 0);
  }

  // The package's 8-bit picture, dark on white: 255 - round(255 * v).
  function paint(ctx, values, count, columns, top, left) {
    const w = columns * SIZE, rows = Math.ceil(count / columns), image = ctx.createImageData(w, rows * SIZE);
    for (let d = 0; d < count; d++) {
      const r = Math.floor(d / columns), c = d % columns;
      for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
        const v = values[d * SIZE * SIZE + y * SIZE + x];
        const g = 255 - Math.min(255, Math.max(0, Math.round(v * 255)));
        const p = ((r * SIZE + y) * w + c * SIZE + x) * 4;
        image.data[p] = image.data[p + 1] = image.data[p + 2] = g;
        image.data[p + 3] = 255;
      }
    }
    ctx.putImageData(image, left, top);
  }

  // Normal quantiles and probabilities: a position on the manifold <-> z.
  function ppf(p) {  // Acklam's inverse normal CDF, refined by one Halley step
    const a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00];
    const b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01];
    const c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
      4.374664141464968e+00, 2.938163982698783e+00];
    const d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
    let x;
    if (p < 0.02425) {
      const q = Math.sqrt(-2 * Math.log(p));
      x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
      const q = p - 0.5, r = q * q;
      x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
      const q = Math.sqrt(-2 * Math.log(1 - p));
      x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    const e = cdf(x) - p, u = e * Math.sqrt(2 * Math.PI) * Math.exp(x * x / 2);
    return x - u / (1 + x * u / 2);
  }

  function cdf(x) {  // 0.5 * erfc(-x / sqrt 2), erfc by its continued fraction / series (double precision)
    const t = Math.abs(x) / Math.SQRT2;
    let erfc;
    if (t < 2) {  // series for erf
      let sum = t, term = t;
      for (let n = 1; n < 60; n++) {
        term *= -t * t / n;
        sum += term / (2 * n + 1);
      }
      erfc = 1 - 2 / Math.sqrt(Math.PI) * sum;
    } else {  // continued fraction for erfc
      let f = 0;
      for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
      erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
    }
    return x >= 0 ? 1 - erfc / 2 : erfc / 2;
  }

  // A pool of Web Workers for the grid (made from this file's kernel, so nothing is fetched); if
  // a browser refuses them, the grid is drawn a row at a time on the page, between events.
  function makePool() {
    const count = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2)));
    const source = `const K = (${cganKernel.toString()})(); const models = {};
      onmessage = (e) => { const m = e.data;
        if (m.type === "model") { models[m.name] = K.load(m.spec); return; }
        const out = K.manifoldRows(models[m.name], m.label, m.start, m.end);
        postMessage({id: m.id, start: m.start, end: m.end, values: out}, [out.buffer]); };`;
    try {
      const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
      const workers = [];
      for (let k = 0; k < count; k++) {
        const worker = new Worker(url);
        for (const [name, m] of Object.entries(models)) {
          worker.postMessage({type: "model", name, spec: {...m.spec, data: m.flat}});
        }
        workers.push(worker);
      }
      return workers;
    } catch (err) {
      return [];
    }
  }

  window.cgan = {models: Object.keys(models), generate, ppf, cdf, kernel: K};

  // ---- the page ------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  if (!$("digit")) return;  // loaded without the page (a test harness)
  const ui = {
    model: $("model"), z1: $("z1"), z2: $("z2"), label: $("label"), z1Out: $("z1-value"), z2Out: $("z2-value"),
    labelOut: $("label-value"), labelRow: $("label-row"), digit: $("digit"), manifold: $("manifold"),
    marker: $("marker"), status: $("status"), manifoldTitle: $("manifold-title"),
  };
  const state = {model: window.cgan.models[0], z: [0, 0], label: 3, drawn: 0, gridId: 0};
  const pool = makePool();
  window.cgan.workers = pool.length;
  let pending = [];       // rows of the current grid still to draw
  let gridStart = 0;

  function current() { return models[state.model]; }

  function drawDigit() {
    const values = generate(state.model, state.z[0], state.z[1], state.label);
    paint(ui.digit.getContext("2d"), values, 1, 1, 0, 0);
    state.drawn += 1;
    ui.digit.dataset.drawn = String(state.drawn);
    ui.digit.dataset.z = JSON.stringify(state.z);
  }

  // z <-> position on the manifold: cell centres sit at the grid's quantiles.
  function zToPixel(z) {
    const spec = current().spec, n = spec.grid.length, step = (spec.grid_high - spec.grid_low) / (n - 1);
    return ((cdf(z) - spec.grid_low) / step + 0.5) * SIZE;
  }

  function pixelToZ(px) {
    const spec = current().spec, n = spec.grid.length, step = (spec.grid_high - spec.grid_low) / (n - 1);
    const p = spec.grid_low + (px / SIZE - 0.5) * step;
    return ppf(Math.min(1 - 1e-6, Math.max(1e-6, p)));
  }

  function drawMarker() {
    const ctx = ui.marker.getContext("2d"), x = zToPixel(state.z[0]), y = zToPixel(state.z[1]);
    ctx.clearRect(0, 0, ui.marker.width, ui.marker.height);
    ctx.strokeStyle = "#d62728";
    ctx.lineWidth = 2;
    ctx.strokeRect(x - SIZE / 2, y - SIZE / 2, SIZE, SIZE);
  }

  function gridDone(id) {
    if (id !== state.gridId) return;
    const ms = performance.now() - gridStart;
    ui.manifold.dataset.grid = String(id);
    ui.manifold.dataset.ms = ms.toFixed(1);
    ui.status.textContent = `manifold drawn in ${Math.round(ms)} ms`;
  }

  function drawGrid() {
    const m = current(), n = m.spec.grid.length, id = ++state.gridId;
    const label = m.conditional ? state.label : 0;
    ui.manifold.width = ui.manifold.height = ui.marker.width = ui.marker.height = n * SIZE;
    ui.manifoldTitle.textContent = m.conditional ? `Label: ${label}` : "no label";
    ui.status.textContent = "drawing the manifold…";
    gridStart = performance.now();
    pending = Array.from({length: n}, (_, i) => i);
    let left = n;
    const ctx = ui.manifold.getContext("2d");
    const got = (start, end, values) => {
      paint(ctx, values, (end - start) * n, n, start * SIZE, 0);
      left -= end - start;
      if (left === 0) gridDone(id);
    };
    if (pool.length) {
      for (const worker of pool) {
        const next = () => {
          if (!pending.length || id !== state.gridId) return;
          const row = pending.shift();
          worker.onmessage = (e) => {
            if (e.data.id === state.gridId) got(e.data.start, e.data.end, e.data.values);
            next();
          };
          worker.postMessage({type: "rows", id, name: state.model, label, start: row, end: row + 1});
        };
        next();
      }
    } else {
      const step = () => {
        if (id !== state.gridId || !pending.length) return;
        const row = pending.shift();
        got(row, row + 1, K.manifoldRows(m, label, row, row + 1));
        setTimeout(step, 0);
      };
      setTimeout(step, 0);
    }
    drawMarker();
  }

  function showZ() {
    ui.z1Out.textContent = state.z[0].toFixed(2);
    ui.z2Out.textContent = state.z[1].toFixed(2);
    ui.z1.value = String(state.z[0]);
    ui.z2.value = String(state.z[1]);
  }

  ui.z1.addEventListener("input", () => { state.z[0] = Number(ui.z1.value); showZ(); drawDigit(); drawMarker(); });
  ui.z2.addEventListener("input", () => { state.z[1] = Number(ui.z2.value); showZ(); drawDigit(); drawMarker(); });
  ui.label.addEventListener("input", () => {
    state.label = Number(ui.label.value);
    ui.labelOut.textContent = String(state.label);
    drawDigit();
    drawGrid();
  });
  ui.model.addEventListener("change", () => {
    state.model = ui.model.value;
    ui.labelRow.hidden = !current().conditional;
    drawDigit();
    drawGrid();
  });
  ui.marker.addEventListener("click", (e) => {
    const box = ui.marker.getBoundingClientRect();
    const px = (e.clientX - box.left) * ui.marker.width / box.width, py = (e.clientY - box.top) * ui.marker.height / box.height;
    state.z = [pixelToZ(px), pixelToZ(py)];
    showZ();
    drawDigit();
    drawMarker();
  });

  for (const name of window.cgan.models) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = models[name].spec.title;
    ui.model.appendChild(option);
  }
  ui.model.value = state.model;
  ui.label.value = String(state.label);
  ui.labelOut.textContent = String(state.label);
  window.cgan.state = state;
  showZ();
  drawDigit();
  drawGrid();
})();
