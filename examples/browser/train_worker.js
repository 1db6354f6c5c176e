// The training loop of the demo page, in a module Worker: a worker may block in
// Atomics.wait, so the CPU backend can fan large matmuls out to worker threads of its own
// (when the page is cross-origin isolated), and the page stays responsive.
//
// Messages in: { backend: "auto" | "cpu" | "webgpu", steps, batch, lr, evalEvery }.
// Messages out: { type: "backend" | "step" | "eval" | "done" | "error", ... }.
import {
  argmax,
  cpuFastPathInfo,
  dispose,
  initWebGPU,
  nn,
  random,
  setBackend,
  softmax,
  tensor,
  valueAndGrad,
  webgpuAvailable,
} from "../../dist/tessera.js";

const DATA = "../../data/sample/fashion-mnist/";
// Short display names of the ten classes (the full ones: data/fashion_mnist.ts).
const CLASSES = "T-shirt Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Boot".split(" ");

/** Fetches a gzipped IDX file and returns its dimensions and bytes. */
async function readIdx(name) {
  const res = await fetch(DATA + name);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  const raw = new Uint8Array(
    await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
  );
  const view = new DataView(raw.buffer);
  const rank = raw[3];
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: raw.subarray(4 + 4 * rank) };
}

/** Images as float32 [n, 784] in [0, 1], normalised like the CLI (mean 0.286, std 0.353). */
function toInputs(images, start, n) {
  const px = 784, out = new Float32Array(n * px);
  for (let i = 0; i < n * px; i++) out[i] = (images[start * px + i] / 255 - 0.286) / 0.353;
  return out;
}

async function chooseBackend(want) {
  if (want === "cpu") return { name: "cpu", detail: "asked for" };
  if (want === "webgpu" || await webgpuAvailable()) {
    try {
      const info = await initWebGPU();
      setBackend("webgpu");
      return { name: "webgpu", detail: info.description || "WebGPU adapter" };
    } catch (e) {
      if (want === "webgpu") throw e;
      return { name: "cpu", detail: `WebGPU failed: ${e.message}` };
    }
  }
  return { name: "cpu", detail: "navigator.gpu gave no adapter" };
}

/**
 * Lets this worker's event loop run one turn (a MessageChannel task, which timers' 4 ms clamp
 * does not slow): messages get through, and the CPU backend's worker threads, which start
 * asynchronously, can come up. A loop that only awaits tensor reads never leaves the task.
 */
const channel = new MessageChannel();
const yieldTurn = () =>
  new Promise((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(0);
  });

async function train(cfg) {
  const backend = await chooseBackend(cfg.backend);
  const fast = cpuFastPathInfo();
  postMessage({
    type: "backend",
    ...backend,
    threading: fast.threading === "single"
      ? `single (${fast.threadingReason})`
      : `${fast.threading}: ${fast.threads} threads (${fast.threadingReason})`,
    crossOriginIsolated: self.crossOriginIsolated === true,
  });
  const [trainX, trainY, testX, testY] = await Promise.all([
    readIdx("train-images-idx3-ubyte.gz"),
    readIdx("train-labels-idx1-ubyte.gz"),
    readIdx("t10k-images-idx3-ubyte.gz"),
    readIdx("t10k-labels-idx1-ubyte.gz"),
  ]);
  const nTrain = trainY.dims[0], bs = cfg.batch;

  let params = nn.initMlp(random.key(0), { inFeatures: 784, hiddenFeatures: 128, outFeatures: 10 });
  const opt = nn.adamw({ lr: cfg.lr, weightDecay: 0 });
  let state = opt.init(params);
  const lossFn = (p, x, y) => nn.crossEntropy(nn.mlp(p, x), y);
  const step = valueAndGrad(lossFn);

  const nEval = 8, nAcc = 500;
  const evalX = tensor(toInputs(testX.data, 0, nAcc), { shape: [nAcc, 784] });
  const evaluate = async (at) => {
    const logits = nn.mlp(params, evalX);
    const probs = softmax(logits, -1);
    const pred = argmax(logits, -1);
    const [p, pr] = [await pred.data(), await probs.data()];
    dispose([logits, probs, pred]);
    let correct = 0;
    for (let i = 0; i < nAcc; i++) correct += p[i] === testY.data[i] ? 1 : 0;
    const shown = Array.from({ length: nEval }, (_, i) => ({
      label: CLASSES[testY.data[i]],
      pred: CLASSES[p[i]],
      prob: pr[i * 10 + p[i]],
      ok: p[i] === testY.data[i],
      pixels: testX.data.slice(i * 784, (i + 1) * 784),
    }));
    postMessage({ type: "eval", step: at, accuracy: correct / nAcc, shown });
  };

  for (let s = 0; s < cfg.steps; s++) {
    const start = (s * bs) % (nTrain - bs);
    const x = tensor(toInputs(trainX.data, start, bs), { shape: [bs, 784] });
    const y = tensor(Int32Array.from(trainY.data.subarray(start, start + bs)), { dtype: "int32" });
    const t0 = performance.now();
    const [loss, grads] = step(params, x, y);
    const next = opt.update(grads, state, params);
    const value = await loss.item();
    const ms = performance.now() - t0;
    dispose([loss, grads, state, params, x, y]);
    ({ params, state } = next);
    if (!Number.isFinite(value)) throw new Error(`step ${s}: loss is ${value}`);
    postMessage({ type: "step", step: s, loss: value, ms });
    await yieldTurn();
    if ((s + 1) % cfg.evalEvery === 0 || s + 1 === cfg.steps) await evaluate(s + 1);
  }
  dispose([params, state, evalX]);
  channel.port1.close();
  // Matmul pieces run on the CPU backend's own worker threads (0 on one thread or on WebGPU).
  postMessage({ type: "done", workerEntries: cpuFastPathInfo().workerEntries });
}

self.onmessage = (e) => {
  train(e.data).catch((err) => {
    postMessage({ type: "error", message: `${err?.name ?? "Error"}: ${err?.message ?? err}` });
  });
};
