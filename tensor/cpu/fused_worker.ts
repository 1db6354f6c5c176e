/**
 * A worker thread of tensor/cpu/fused_threads.ts: waits on the control block's epoch, claims
 * parts of the described loop, compiles each program's source once (by id, from the shared
 * arena) and runs its parts over views of the arena. Loaded with `node:worker_threads` only,
 * never imported by the library.
 * @module
 */
import { SCALAR_HELPERS } from "./op_exprs.ts";

type Loop = (F: unknown, ins: unknown, outs: unknown, lo: number, hi: number) => void;
// Through `process.getBuiltinModule`, as ./wasm/pool.ts does: the core imports only relative files.
// deno-lint-ignore no-explicit-any
const wt = (globalThis as any).process.getBuiltinModule("node:worker_threads");
const { ready, ctl, arena } = wt.workerData as {
  ready: Int32Array;
  ctl: SharedArrayBuffer;
  arena: SharedArrayBuffer;
};
const i32 = new Int32Array(ctl), f64 = new Float64Array(ctl);
const EPOCH = 0, CLAIM = 1, FINISHED = 2, FAILED = 3, EXIT = 4, PARTS = 5, WORKER_PARTS = 6;
const DESC = 8;
const loops = new Map<number, Loop>();

function compile(id: number, off: number, len: number): Loop {
  let f = loops.get(id);
  if (!f) {
    // TextDecoder refuses shared views in some runtimes: copy the bytes out first.
    const bytes = new Uint8Array(arena as unknown as ArrayBuffer, off, len).slice();
    const src = new TextDecoder().decode(bytes);
    f = new Function("F", "ins", "outs", "lo", "hi", src) as Loop;
    loops.set(id, f);
  }
  return f;
}

/** Claims a part of job `tag` (the claim word's high bits), or -1 when none is left. */
function claim(tag: number, parts: number): number {
  for (;;) {
    const v = Atomics.load(i32, CLAIM);
    if (v >>> 20 !== tag || (v & 0xfffff) >= parts) return -1;
    if (Atomics.compareExchange(i32, CLAIM, v, v + 1) === v) return v & 0xfffff;
  }
}

/** The job's arrays as views of the arena, inputs first. */
function views(): { ins: ArrayBufferView[]; outs: ArrayBufferView[] } {
  const [dt, nIn, nOut] = [f64[DESC + 4]!, f64[DESC + 5]!, f64[DESC + 6]!];
  const Arr = dt === 0 ? Float32Array : Float64Array;
  const buf = arena as unknown as ArrayBuffer;
  const all: ArrayBufferView[] = [];
  for (let j = 0, k = DESC + 8; j < nIn + nOut; j++, k += 2) {
    all.push(new Arr(buf, f64[k]!, f64[k + 1]!));
  }
  return { ins: all.slice(0, nIn), outs: all.slice(nIn) };
}

function runJob(tag: number): void {
  const parts = Atomics.load(i32, PARTS);
  let p = claim(tag, parts);
  if (p < 0) return;
  const [id, n, srcOff, srcLen, , , , chunk] = Array.from({ length: 8 }, (_, j) => f64[DESC + j]!);
  let arrays: ReturnType<typeof views> | undefined;
  for (; p >= 0; p = claim(tag, parts)) {
    // Whatever happens, the part is counted (a failure as such), so the caller never hangs.
    try {
      arrays ??= views();
      const f = compile(id!, srcOff!, srcLen!);
      const lo = Math.min(n!, p * chunk!), hi = Math.min(n!, (p + 1) * chunk!);
      f(SCALAR_HELPERS, arrays.ins, arrays.outs, lo, hi);
    } catch {
      Atomics.add(i32, FAILED, 1);
    }
    Atomics.add(i32, WORKER_PARTS, 1);
    Atomics.add(i32, FINISHED, 1);
    Atomics.notify(i32, FINISHED);
  }
}

let seen = Atomics.load(i32, EPOCH); // read before `ready`, so no job is missed
Atomics.store(ready, 0, 1);
for (;;) {
  Atomics.wait(i32, EPOCH, seen);
  seen = Atomics.load(i32, EPOCH);
  if (Atomics.load(i32, EXIT)) break;
  runJob(seen & 0x7ff);
}
