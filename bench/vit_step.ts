/**
 * ViT-Tiny training-step and forward benchmark on tessera's CPU backend, with the model
 * written from tensor ops (patch embedding as reshape/permute/matmul, CLS token, learned
 * positions, pre-norm blocks with softmax attention and an exact-GELU MLP, cross-entropy,
 * AdamW via treeMap). dim 192, depth 12, 3 heads, MLP ×4, 32×32 images, patch 4 (65 tokens),
 * 10 classes, batch 64 by default.
 *
 * Weights and data are deterministic and are written to / read from a safetensors file
 * (`--weights`) so that `bench/peers/vit_torch.py` runs the very same numbers; the first
 * step's loss is printed by both as a cross-check.
 *
 * Run: `deno run -A bench/vit_step.ts --mode step|forward [--steps N] [--batch B]
 *       [--threads N] [--weights FILE] [--profile] [--jit [--no-fuse]]` — prints one JSON line.
 */
import {
  add,
  broadcastTo,
  concat,
  cpuFastPathInfo,
  div,
  gelu,
  getBackend,
  jit,
  layerNorm,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  oneHot,
  opName,
  permute,
  readSafetensorsFile,
  reshape,
  scope,
  setCpuThreads,
  slice,
  softmax,
  split,
  sqrt,
  squeeze,
  sub,
  sum,
  type Tensor,
  tensor,
  treeMap,
  valueAndGrad,
  writeSafetensorsFile,
} from "../mod.ts";
import { tesseraLabel } from "./peers/_common.ts";

/** Model hyper-parameters. */
export const CFG = { dim: 192, depth: 12, heads: 3, mlp: 768, patch: 4, image: 32, classes: 10 };
const TOKENS = (CFG.image / CFG.patch) ** 2 + 1;

/** Parameters, by name (the names and [in, out] layouts are shared with the torch script). */
export type Params = Record<string, Tensor>;

function lcgUniform(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 * 2 - 1) * scale;
  }
  return a;
}

/** Deterministic initial parameters (uniform with std 0.02; LayerNorm weights 1, biases 0). */
export function initParams(): Params {
  const p: Params = {};
  let seed = 1;
  const w = (name: string, shape: number[]) => {
    p[name] = tensor(lcgUniform(shape.reduce((x, y) => x * y, 1), seed++, 0.02 * Math.sqrt(3)), {
      shape,
    });
  };
  const c = (name: string, shape: number[], v: number) => {
    p[name] = tensor(new Float32Array(shape.reduce((x, y) => x * y, 1)).fill(v), { shape });
  };
  const { dim, mlp } = CFG;
  w("patch.w", [3 * CFG.patch * CFG.patch, dim]);
  c("patch.b", [dim], 0);
  w("cls", [1, 1, dim]);
  w("pos", [1, TOKENS, dim]);
  for (let i = 0; i < CFG.depth; i++) {
    const b = `blocks.${i}.`;
    c(b + "ln1.w", [dim], 1);
    c(b + "ln1.b", [dim], 0);
    w(b + "qkv.w", [dim, 3 * dim]);
    c(b + "qkv.b", [3 * dim], 0);
    w(b + "proj.w", [dim, dim]);
    c(b + "proj.b", [dim], 0);
    c(b + "ln2.w", [dim], 1);
    c(b + "ln2.b", [dim], 0);
    w(b + "fc1.w", [dim, mlp]);
    c(b + "fc1.b", [mlp], 0);
    w(b + "fc2.w", [mlp, dim]);
    c(b + "fc2.b", [dim], 0);
  }
  c("norm.w", [dim], 1);
  c("norm.b", [dim], 0);
  w("head.w", [dim, CFG.classes]);
  c("head.b", [CFG.classes], 0);
  return p;
}

/** Deterministic batch: images uniform in [-1, 1], labels in 0..9. */
export function makeBatch(batch: number): { x: Tensor; y: Tensor } {
  const x = tensor(lcgUniform(batch * 3 * CFG.image * CFG.image, 12345, 1), {
    shape: [batch, 3, CFG.image, CFG.image],
  });
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = (i * 7 + 3) % CFG.classes;
  return { x, y: tensor(labels, { shape: [batch], dtype: "int32" }) };
}

/** `x @ W + b` over the last axis, as one 2-D product (so dW is a single [in, out] GEMM). */
function linear(x: Tensor, p: Params, name: string): Tensor {
  const w = p[name + ".w"]!, lead = x.shape.slice(0, -1);
  const y = matmul(reshape(x, [-1, x.shape.at(-1)!]), w);
  return add(reshape(y, [...lead, w.shape[1]!]), p[name + ".b"]!);
}
const ln = (x: Tensor, p: Params, name: string) =>
  layerNorm(x, p[name + ".w"], p[name + ".b"], { eps: 1e-6 });

/** Multi-head self-attention on `[B, T, D]`. */
function attention(x: Tensor, p: Params, b: string): Tensor {
  const [B, T, D] = x.shape as [number, number, number];
  const H = CFG.heads, hd = D / H;
  const qkv = permute(reshape(linear(x, p, b + "qkv"), [B, T, 3, H, hd]), [2, 0, 3, 1, 4]);
  const [q, k, v] = split(qkv, 3, 0).map((t) => squeeze(t, 0)) as [Tensor, Tensor, Tensor];
  const att = softmax(mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(hd)), -1);
  const o = reshape(permute(matmul(att, v), [0, 2, 1, 3]), [B, T, D]);
  return linear(o, p, b + "proj");
}

/** Logits `[B, classes]` for images `[B, 3, 32, 32]`. */
export function forward(p: Params, x: Tensor): Tensor {
  const B = x.shape[0]!, P = CFG.patch, G = CFG.image / P, D = CFG.dim;
  const patches = reshape(
    permute(reshape(x, [B, 3, G, P, G, P]), [0, 2, 4, 1, 3, 5]),
    [B, G * G, 3 * P * P],
  );
  let h = linear(patches, p, "patch");
  h = concat([broadcastTo(p["cls"]!, [B, 1, D]), h], 1);
  h = add(h, p["pos"]!);
  for (let i = 0; i < CFG.depth; i++) {
    const b = `blocks.${i}.`;
    // A scope per block frees its intermediates as soon as they are dead (forward only;
    // under valueAndGrad the tape pins what the backward pass needs).
    h = scope(() => {
      const a = add(h, attention(ln(h, p, b + "ln1"), p, b));
      return add(a, linear(gelu(linear(ln(a, p, b + "ln2"), p, b + "fc1")), p, b + "fc2"));
    });
  }
  const cls = slice(ln(h, p, "norm"), [null, 0]); // the CLS token: [B, D]
  return linear(cls, p, "head");
}

/** Mean cross-entropy of `logits` against integer `labels`. */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const oh = oneHot(labels, CFG.classes, { dtype: "float32" });
  return neg(mean(sum(mul(logSoftmax(logits, -1), oh), -1)));
}

/** AdamW state (first and second moments) and step count. */
export interface AdamState {
  m: Params;
  v: Params;
  t: number;
  /** `lr / (1 − β1ᵗ)` and `1 / (1 − β2ᵗ)` as scalar tensors (so `jit` traces them), else from `t`. */
  scales?: { m: Tensor; v: Tensor };
}

/** One AdamW update (PyTorch semantics: decoupled weight decay applied to every parameter). */
export function adamw(
  p: Params,
  g: Params,
  s: AdamState,
  lr = 1e-3,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
  wd = 0.05,
): { p: Params; s: AdamState } {
  const t = s.t + 1;
  const m = treeMap((mi, gi) => add(mul(mi, b1), mul(gi, 1 - b1)), s.m, g);
  const v = treeMap((vi, gi) => add(mul(vi, b2), mul(mul(gi, gi), 1 - b2)), s.v, g);
  const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
  const ms = s.scales?.m ?? lr / c1, vs = s.scales?.v ?? 1 / c2;
  const np = treeMap(
    (pi, mi, vi) => sub(mul(pi, 1 - lr * wd), div(mul(mi, ms), add(sqrt(mul(vi, vs)), eps))),
    p,
    m,
    v,
  );
  return { p: np, s: { m, v, t } };
}

/**
 * The training step the dispatch ratchets compile (tests/autodiff/jit_vit_tiny_test.ts,
 * tests/webgpu/jit_dispatch_test.ts): loss and gradient, then one AdamW update at step 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainStep } from "./vit_step.ts";
 * assert.equal(typeof trainStep(), "function");
 * ```
 */
export function trainStep(): (
  p: Params,
  m: Params,
  v: Params,
  x: Tensor,
  y: Tensor,
) => { loss: Tensor; p: Params; m: Params; v: Params } {
  const vg = valueAndGrad((q: Params, xs: Tensor, ys: Tensor) => crossEntropy(forward(q, xs), ys));
  return (q, mq, vq, xs, ys) => {
    const [loss, g] = vg(q, xs, ys);
    const u = adamw(q, g, { m: mq, v: vq, t: 1 });
    return { loss, p: u.p, m: u.s.m, v: u.s.v };
  };
}

/** Wraps the CPU backend's `execute` to accumulate wall time and calls per primitive. */
function installProfiler(): Map<string, { ms: number; calls: number }> {
  const stats = new Map<string, { ms: number; calls: number }>();
  const be = getBackend("cpu");
  const inner = be.execute.bind(be);
  (be as { execute: typeof be.execute }).execute = (prim, inputs, params, out) => {
    const t0 = performance.now();
    const r = inner(prim, inputs, params, out);
    const key = prim === "matmul"
      ? (Deno.args.includes("--profile-matmul")
        ? `mm ${inputs[0]!.shape}${(params as { transA: boolean }).transA ? "T" : ""} @ ${
          inputs[1]!.shape
        }${(params as { transB: boolean }).transB ? "T" : ""}`
        : `matmul(${out.dtype})`)
      : Deno.args.includes("--profile-shapes")
      ? `${opName(prim, params)} ${inputs.map((t) => `[${t.shape}]`).join(" ")}`
      : opName(prim, params);
    const s = stats.get(key) ?? { ms: 0, calls: 0 };
    s.ms += performance.now() - t0;
    s.calls++;
    stats.set(key, s);
    return r;
  };
  // Fused kernels (jit): one row per loop size, or per program shape with --profile-shapes.
  const fused = be.fusedElementwise?.bind(be);
  if (fused) {
    (be as { fusedElementwise: typeof fused }).fusedElementwise = (program, inputs) => {
      const t0 = performance.now();
      const r = fused(program, inputs);
      const key = Deno.args.includes("--profile-shapes")
        ? `fused ${program.size}×${program.nodes.length} nodes${program.tail ? " +tail" : ""}`
        : "fused";
      const s = stats.get(key) ?? { ms: 0, calls: 0 };
      s.ms += performance.now() - t0;
      s.calls++;
      stats.set(key, s);
      return r;
    };
  }
  return stats;
}

function peakRssMiB(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1]! : def;
}

async function loadOrWrite(
  path: string,
  batch: number,
): Promise<{ p: Params; x: Tensor; y: Tensor }> {
  try {
    const all = (await readSafetensorsFile(path)).tensors;
    const p: Params = {};
    for (const [k, v] of Object.entries(all)) if (k !== "x" && k !== "y") p[k] = v;
    if (all["x"]!.shape[0] === batch) return { p, x: all["x"]!, y: all["y"]! };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const p = initParams();
  const { x, y } = makeBatch(batch);
  await writeSafetensorsFile(path, { ...p, x, y });
  return { p, x, y };
}

if (import.meta.main) {
  const mode = arg("--mode", "step"), steps = Number(arg("--steps", "3"));
  const batch = Number(arg("--batch", "64"));
  if (Deno.args.includes("--threads")) setCpuThreads(Number(arg("--threads", "1")));
  const path = arg("--weights", `${await Deno.makeTempDir()}/vit.safetensors`);
  let { p, x, y } = await loadOrWrite(path, batch);
  const prof = Deno.args.includes("--profile") ? installProfiler() : undefined;
  const lossFn = (params: Params) => crossEntropy(forward(params, x), y);
  const vg = valueAndGrad<[Params], Tensor, Params>(lossFn);
  let state: AdamState = { m: treeMap((t) => mul(t, 0), p), v: treeMap((t) => mul(t, 0), p), t: 0 };
  // --jit: the whole step (forward, backward, AdamW) compiled once; the bias corrections are
  // traced scalars, so every step replays one program (same bits as the eager step on the CPU).
  const jitted = Deno.args.includes("--jit")
    ? jit((q: Params, m: Params, v: Params, sm: Tensor, sv: Tensor) => {
      const [loss, g] = vg(q);
      const u = adamw(q, g, { m, v, t: 0, scales: { m: sm, v: sv } });
      return { loss, p: u.p, s: { m: u.s.m, v: u.s.v, t: 0 } };
    }, { fuse: !Deno.args.includes("--no-fuse") })
    : null;
  const losses: number[] = [];
  const times: number[] = [];
  for (let i = 0; i <= steps; i++) { // step 0 warms up (wasm tier-up, workers)
    const t0 = performance.now();
    if (mode === "forward") {
      const loss = scope(() => lossFn(p));
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    } else {
      const t = state.t + 1;
      const r = jitted
        ? scope(() => {
          const sm = tensor(1e-3 / (1 - 0.9 ** t)), sv = tensor(1 / (1 - 0.999 ** t));
          const out = jitted(p, state.m, state.v, sm, sv);
          return { ...out, s: { ...out.s, t } };
        })
        : scope(() => {
          const [loss, g] = vg(p);
          const u = adamw(p, g, state);
          return { loss, ...u };
        });
      losses.push(r.loss.dataSync()[0]!);
      r.loss.dispose();
      treeMap((t) => (t.dispose(), t), [p, state.m, state.v]);
      p = r.p;
      state = r.s;
    }
    times.push(performance.now() - t0);
    if (prof && i === 0) prof.clear();
  }
  if (prof) {
    const total = times.slice(1).reduce((a, b) => a + b, 0);
    const rows = [...prof].sort((a, b) => b[1].ms - a[1].ms);
    const kern = rows.reduce((a, [, s]) => a + s.ms, 0);
    console.error(
      `profile over ${steps} ${mode}(s): ${total.toFixed(0)} ms wall, ` +
        `${kern.toFixed(0)} ms in kernels, ${(total - kern).toFixed(0)} ms elsewhere (dispatch, ` +
        `autodiff, GC outside kernels)`,
    );
    for (const [k, s] of rows.slice(0, 20)) {
      console.error(
        `  ${k.padEnd(18)} ${s.ms.toFixed(0).padStart(7)} ms ${
          (100 * s.ms / total).toFixed(1).padStart(5)
        }%  ${s.calls} calls`,
      );
    }
  }
  const ms = Math.min(...times.slice(1));
  const info = cpuFastPathInfo();
  console.log(JSON.stringify({
    peer: tesseraLabel(info) +
      (jitted ? (Deno.args.includes("--no-fuse") ? " jit (no fusion)" : " jit") : ""),
    bench: mode === "forward" ? "vit-forward" : "vit-step",
    n: batch,
    ms,
    imgPerS: batch / (ms / 1000),
    peakRssMiB: peakRssMiB(),
    loss0: losses[0],
    losses,
  }));
  Deno.exit(0);
}
