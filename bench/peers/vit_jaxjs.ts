/**
 * jax-js (npm:@jax-js/jax 0.1.25, wasm device) side of the ViT-Tiny benchmark: the model of
 * bench/vit_step.ts in jax-js's numpy API, with the training step (loss, gradients and the
 * AdamW update) under one `jit`. Reads the same weights and batch from the safetensors file
 * that vit_step.ts writes, and prints one JSON line like the other peers.
 *
 * `deno run -A bench/peers/vit_jaxjs.ts --weights FILE --mode step|forward [--steps N]`
 */
import {
  blockUntilReady,
  defaultDevice,
  init,
  jit,
  nn,
  numpy as np,
  tree,
  valueAndGrad,
} from "npm:@jax-js/jax@0.1.25";
import { decodeSafetensors } from "../../mod.ts";

type Arr = np.Array;
type Params = Record<string, Arr>;
const DIM = 192, DEPTH = 12, HEADS = 3, PATCH = 4, IMAGE = 32, CLASSES = 10;

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1]! : def;
}

// Every helper consumes its array arguments (jax-js ownership); `p[...]` entries are used once.
const linear = (x: Arr, p: Params, n: string) => np.add(np.matmul(x, p[n + ".w"]!), p[n + ".b"]!);
const ln = (x: Arr, p: Params, n: string) =>
  np.add(np.multiply(nn.standardize(x, -1, { epsilon: 1e-6 }), p[n + ".w"]!), p[n + ".b"]!);

function attention(x: Arr, p: Params, b: string): Arr {
  const [B, T] = x.shape as [number, number], hd = DIM / HEADS;
  const qkv = linear(x, p, b + "qkv").reshape([B, T, 3, HEADS, hd]).transpose([2, 0, 3, 1, 4]);
  const [q, k, v] = np.split(qkv, 3, 0).map((t) => np.squeeze(t, 0)) as [Arr, Arr, Arr];
  const s = np.multiply(np.matmul(q, np.matrixTranspose(k)), 1 / Math.sqrt(hd));
  const o = np.matmul(nn.softmax(s, -1), v).transpose([0, 2, 1, 3]).reshape([B, T, DIM]);
  return linear(o, p, b + "proj");
}

function forward(p: Params, x: Arr): Arr {
  const B = x.shape[0]!, G = IMAGE / PATCH;
  const patches = x.reshape([B, 3, G, PATCH, G, PATCH]).transpose([0, 2, 4, 1, 3, 5])
    .reshape([B, G * G, 3 * PATCH * PATCH]);
  let h = linear(patches, p, "patch");
  h = np.concatenate([np.broadcastTo(p["cls"]!, [B, 1, DIM]), h], 1);
  h = np.add(h, p["pos"]!);
  for (let i = 0; i < DEPTH; i++) {
    const b = `blocks.${i}.`;
    h = np.add(h.ref, attention(ln(h, p, b + "ln1"), p, b));
    const m = linear(
      nn.gelu(linear(ln(h.ref, p, b + "ln2"), p, b + "fc1"), { approximate: false }),
      p,
      b + "fc2",
    );
    h = np.add(h, m);
  }
  const cls = ln(h, p, "norm").slice([], 0); // [B, DIM]
  return linear(cls, p, "head");
}

function loss(p: Params, x: Arr, y: Arr): Arr {
  const lp = nn.logSoftmax(forward(p, x), -1);
  return np.negative(np.multiply(lp, nn.oneHot(y, CLASSES)).sum(-1).mean());
}

const [lr, b1, b2, eps, wd] = [1e-3, 0.9, 0.999, 1e-8, 0.05];

/** One AdamW step (PyTorch semantics), jitted together with the loss and gradients. */
const trainStep = jit((p: Params, m: Params, v: Params, x: Arr, y: Arr, c1: Arr, c2: Arr) => {
  const [l, g] = valueAndGrad(loss)(tree.ref(p), x, y) as [Arr, Params];
  const nm: Params = {}, nv: Params = {}, np2: Params = {};
  for (const k of Object.keys(p)) {
    const gk = g[k]!;
    nm[k] = np.add(np.multiply(m[k]!, b1), np.multiply(gk.ref, 1 - b1));
    nv[k] = np.add(np.multiply(v[k]!, b2), np.multiply(np.multiply(gk.ref, gk), 1 - b2));
    const upd = np.divide(
      np.multiply(np.divide(nm[k]!.ref, c1.ref), lr),
      np.add(np.sqrt(np.divide(nv[k]!.ref, c2.ref)), eps),
    );
    np2[k] = np.subtract(np.multiply(p[k]!, 1 - lr * wd), upd);
  }
  c1.dispose();
  c2.dispose();
  return [l, np2, nm, nv] as [Arr, Params, Params, Params];
});
const evalLoss = jit(loss);

await init("wasm");
defaultDevice("wasm");
const mode = arg("--mode", "step"), steps = Number(arg("--steps", "3"));
const file = decodeSafetensors(Deno.readFileSync(arg("--weights", "")));
let p: Params = {};
let x: Arr | undefined, y: Arr | undefined;
for (const [k, e] of Object.entries(file.entries)) {
  const a = np.array(e.data as Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>, {
    dtype: e.dtype === "int32" ? np.int32 : np.float32,
  }).reshape(e.shape);
  if (k === "x") x = a;
  else if (k === "y") y = a;
  else p[k] = a;
}
let m: Params = tree.map((t: Arr) => np.zerosLike(t.ref), p) as Params;
let v: Params = tree.map((t: Arr) => np.zerosLike(t.ref), p) as Params;
const losses: number[] = [], times: number[] = [];
for (let i = 0; i <= steps; i++) { // step 0 compiles and warms up
  const t0 = performance.now();
  let l: Arr;
  if (mode === "forward") {
    l = evalLoss(tree.ref(p), x!.ref, y!.ref);
  } else {
    const t = i + 1;
    const out = trainStep(
      p,
      m,
      v,
      x!.ref,
      y!.ref,
      np.array([1 - b1 ** t]),
      np.array([1 - b2 ** t]),
    );
    [l, p, m, v] = out;
    await blockUntilReady([p, m, v]);
  }
  losses.push((await l.data())[0]!);
  times.push(performance.now() - t0);
}
const ms = Math.min(...times.slice(1));
const rss = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
console.log(JSON.stringify({
  peer: "jax-js 0.1.25 (wasm, jit)",
  bench: mode === "forward" ? "vit-forward" : "vit-step",
  n: x!.shape[0],
  ms,
  imgPerS: x!.shape[0]! / (ms / 1000),
  peakRssMiB: rss ? Number(rss[1]) / 1024 : undefined,
  loss0: losses[0],
  losses,
}));
Deno.exit(0);
