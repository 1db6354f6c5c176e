// The demo page: starts the training worker, plots the loss, shows predictions, and keeps
// everything it saw in `window.__tessera_state` (read by tests/browser/page_test.ts).
//
// Query parameters: backend=auto|cpu|webgpu (default auto: WebGPU when navigator.gpu gives an
// adapter), steps (default 300), batch (64), lr (0.002), evalEvery (25).
const q = new URLSearchParams(location.search);
const cfg = {
  backend: q.get("backend") ?? "auto",
  steps: Number(q.get("steps") ?? 300),
  batch: Number(q.get("batch") ?? 64),
  lr: Number(q.get("lr") ?? 0.002),
  evalEvery: Number(q.get("evalEvery") ?? 25),
};
const state = {
  config: cfg,
  backend: null,
  detail: null,
  threading: null,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  losses: [],
  accuracy: null,
  evals: 0,
  done: false,
  errors: [],
  workerEntries: null,
};
globalThis.__tessera_state = state;

const $ = (id) => document.getElementById(id);
const fail = (msg) => {
  state.errors.push(String(msg));
  $("errors").textContent = state.errors.join("\n");
  $("status").textContent = "error";
};
addEventListener("error", (e) => fail(e.message));
addEventListener("unhandledrejection", (e) => fail(e.reason));

function plot() {
  const c = $("plot"), g = c.getContext("2d"), L = state.losses;
  const pad = { l: 44, r: 10, t: 18, b: 26 },
    w = c.width - pad.l - pad.r,
    h = c.height - pad.t - pad.b;
  g.clearRect(0, 0, c.width, c.height);
  g.font = "12px system-ui";
  g.fillStyle = "#222";
  g.fillText("training loss (cross-entropy)", pad.l, 12);
  if (L.length === 0) return;
  const max = Math.max(...L) * 1.05, n = Math.max(cfg.steps, 2);
  g.strokeStyle = "#ccc";
  g.strokeRect(pad.l, pad.t, w, h);
  g.fillStyle = "#666";
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, y = pad.t + h - (v / max) * h;
    g.fillText(v.toFixed(2), 4, y + 4);
  }
  g.fillText("step", pad.l + w / 2 - 12, pad.t + h + 14);
  g.fillText(String(n), pad.l + w - 24, pad.t + h + 14);
  g.fillText("0", pad.l, pad.t + h + 14);
  g.strokeStyle = "#0969da";
  g.lineWidth = 1.5;
  g.beginPath();
  L.forEach((v, i) => {
    const x = pad.l + (i / (n - 1)) * w, y = pad.t + h - (v / max) * h;
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

function showPredictions(shown) {
  const box = $("preds");
  box.replaceChildren();
  for (const s of shown) {
    const div = document.createElement("div");
    div.className = "pred";
    const c = document.createElement("canvas");
    c.width = c.height = 28;
    const img = c.getContext("2d").createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = 255 - s.pixels[i];
      img.data.set([v, v, v, 255], i * 4);
    }
    c.getContext("2d").putImageData(img, 0, 0);
    const t = document.createElement("div");
    t.className = s.ok ? "ok" : "bad";
    t.textContent = `${s.pred} ${(s.prob * 100).toFixed(0)}%`;
    const l = document.createElement("div");
    l.textContent = `(${s.label})`;
    div.append(c, t, l);
    box.append(div);
  }
}

let frame = 0;
const worker = new Worker(new URL("./train_worker.js", import.meta.url), { type: "module" });
worker.onerror = (e) => {
  e.preventDefault();
  fail(`worker: ${e.message}`);
};
worker.onmessage = ({ data: m }) => {
  if (m.type === "backend") {
    Object.assign(state, {
      backend: m.name,
      detail: m.detail,
      threading: m.threading,
      workerCrossOriginIsolated: m.crossOriginIsolated,
    });
    $("backend").textContent = m.name;
    $("detail").textContent = m.detail;
    $("threading").textContent = m.name === "cpu" ? m.threading : "(not used)";
    $("isolated").textContent = String(m.crossOriginIsolated);
    $("status").textContent = "training";
  } else if (m.type === "step") {
    state.losses.push(m.loss);
    $("step").textContent = `${m.step + 1} / ${cfg.steps}`;
    $("loss").textContent = m.loss.toFixed(4);
    $("ms").textContent = m.ms.toFixed(1);
    if (!frame) frame = requestAnimationFrame(() => (frame = 0, plot()));
  } else if (m.type === "eval") {
    state.accuracy = m.accuracy;
    state.evals++;
    $("acc").textContent = `${(m.accuracy * 100).toFixed(1)}% (500 images, step ${m.step})`;
    showPredictions(m.shown);
  } else if (m.type === "done") {
    plot();
    state.done = true;
    state.workerEntries = m.workerEntries;
    $("status").textContent = "done";
    worker.terminate();
  } else if (m.type === "error") {
    fail(m.message);
  }
};
worker.postMessage(cfg);
