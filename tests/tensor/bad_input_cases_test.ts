/**
 * Issue 20's library cases, one test each: the box-op NaN policy (nms, batchedNms, nmsPadded,
 * fpnLevels, boxIou), internal names that leaked (nms as nmsPadded, softmax of an empty axis
 * as max), writeSafetensorsFile failures naming the target and the cause (missing directory,
 * parent is a file, a full disk), and messages that print NaN rather than null.
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { fpnLevels } from "../../models/detection/fpn_levels.ts";
import { fmtValue } from "../../tensor/errors.ts";
import { expectError } from "../_helpers.ts";

const boxes = () => T.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]);

async function rejectsWith(p: Promise<unknown>, op: string, pattern: RegExp): Promise<void> {
  const e = await p.then(() => assert.fail(`${op} resolved`), (e: unknown) => e);
  assert.ok(e instanceof T.TesseraError, `expected a TesseraError, got ${e}`);
  assert.equal(e.op, op);
  assert.match(e.message, pattern);
}

Deno.test("nms: a NaN score is an error, not ranked first (was [0, 2])", async () => {
  await T.scope(async () => {
    await rejectsWith(
      T.nms(boxes(), T.tensor([NaN, 0.5, 0.2]), 0.5),
      "nms",
      /^nms: score 0 is NaN; scores must be finite/,
    );
    await rejectsWith(
      T.nms(boxes(), T.tensor([0.1, Infinity, 0.2]), 0.5),
      "nms",
      /score 1 is Infinity/,
    );
  });
});

Deno.test("nms and batchedNms: a non-finite coordinate is an error naming the box", async () => {
  await T.scope(async () => {
    const bad = T.tensor([[0, 0, 10, 10], [NaN, 1, 11, 11]]);
    await rejectsWith(
      T.nms(bad, T.tensor([0.9, 0.8]), 0.5),
      "nms",
      /^nms: box 1 \[NaN,1,11,11\] has a non-finite coordinate/,
    );
    const inf = T.tensor([[0, 0, 10, 10], [0, 0, -Infinity, 1]]);
    await rejectsWith(
      T.batchedNms(inf, T.tensor([0.9, 0.8]), T.tensor([0, 1], { dtype: "int32" }), 0.5),
      "batchedNms",
      /^batchedNms: box 1 \[0,0,-Infinity,1\]/,
    );
  });
});

Deno.test("nmsPadded: non-finite input gives count -1 and no indices; finite input unchanged", async () => {
  await T.scope(async () => {
    const bad = T.nmsPadded(boxes(), T.tensor([0.9, NaN, 0.7]), 0.5, { maxOutput: 2 });
    assert.equal(await bad.count.item(), -1);
    assert.deepEqual(await bad.indices.toArray(), [-1, -1]);
    const ok = T.nmsPadded(boxes(), T.tensor([0.9, 0.8, 0.7]), 0.5, { maxOutput: 4 });
    assert.equal(await ok.count.item(), 2);
    assert.deepEqual(await ok.indices.toArray(), [0, 2, -1, -1]);
  });
});

Deno.test("nms: argument errors name nms, not nmsPadded", async () => {
  await T.scope(async () => {
    await rejectsWith(T.nms(boxes(), T.zeros([2]), 0.5), "nms", /^nms: scores must be \[3\]/);
    await rejectsWith(T.nms(boxes(), T.zeros([3]), NaN), "nms", /iouThreshold is NaN/);
    await rejectsWith(
      T.batchedNms(boxes(), T.zeros([3]), T.zeros([3], { dtype: "int32" }), NaN),
      "batchedNms",
      /iouThreshold/,
    );
  });
});

Deno.test("fpnLevels: a non-finite box gets level -1 (was level 2)", async () => {
  await T.scope(async () => {
    const b = T.tensor([[NaN, 0, 10, 10], [0, 0, 224, 224], [0, 0, Infinity, 5]]);
    assert.deepEqual(await fpnLevels(b).toArray(), [-1, 4, -1]);
    expectError(() => fpnLevels(T.tensor([[0, 0, 1, 1]]), { minLevel: NaN }), "fpnLevels", "NaN");
  });
});

Deno.test("boxIou: two empty boxes have IoU 0, not NaN; a NaN box stays NaN", async () => {
  await T.scope(async () => {
    const a = T.tensor([[1, 1, 1, 1], [0, 0, 2, 2], [NaN, 0, 1, 1]]);
    const m = await T.boxIou(a, a).toArray() as number[][];
    assert.deepEqual(m[0]!.slice(0, 2), [0, 0]);
    assert.deepEqual(m[1]!.slice(0, 2), [0, 1]);
    assert.ok(m[2]!.every(Number.isNaN) && Number.isNaN(m[0]![2]!));
  });
});

Deno.test("softmax and logSoftmax of an empty axis return the empty result (was 'max: …')", () => {
  T.scope(() => {
    assert.deepEqual(T.softmax(T.zeros([2, 0])).shape, [2, 0]);
    assert.deepEqual(T.logSoftmax(T.zeros([0, 3]), 0).shape, [0, 3]);
    assert.deepEqual(T.layerNorm(T.zeros([2, 0])).shape, [2, 0]);
  });
});

Deno.test("messages print NaN and Infinity, not null", () => {
  assert.equal(fmtValue([NaN, Infinity, -Infinity, 1]), "[NaN,Infinity,-Infinity,1]");
  assert.equal(fmtValue({ a: [NaN], b: "x", c: undefined }), '{"a":[NaN],"b":"x"}');
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  assert.equal(fmtValue(cyclic), "[1,[Circular]]");
  assert.equal(fmtValue(T.zeros([1])), "Tensor");
  assert.match(fmtValue(new Array(100).fill(0)), /… \(100 items\)\]$/);
  expectError(() => T.reshape(T.zeros([2]), [NaN, 2]), "reshape", "[NaN,2]");
  expectError(() => T.transpose(T.zeros([2, 2]), NaN, 0), "transpose", "NaN");
});

Deno.test("toString and toArray of a huge empty tensor do not hang", async () => {
  const t = T.zeros([1e12, 0]);
  assert.equal(t.toString(), "Tensor([1000000000000,0], float32, cpu) []");
  await assert.rejects(() => t.toArray(), T.TesseraError, "would nest 1000000000000 arrays");
  t.dispose();
});

Deno.test("writeSafetensorsFile: a missing directory or a file as parent names the target", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_st_bad_" });
  try {
    const x = { w: T.tensor([1, 2]) };
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "x");
    for (
      const [target, why] of [
        [`${dir}/missing/ck.safetensors`, /No such file or directory.*\[ENOENT\]$/],
        [`${file}/ck.safetensors`, /Not a directory.*\[ENOTDIR\]$/],
        [dir, /Is a directory/],
      ] as const
    ) {
      const e = await T.writeSafetensorsFile(target, x).then(() => null, (e: unknown) => e);
      assert.ok(e instanceof T.TesseraError, String(e));
      assert.ok(e.message.startsWith(`writeSafetensorsFile: cannot write ${target}: `), e.message);
      assert.doesNotMatch(e.message, /\.tmp-/);
      assert.match(e.message, why);
      assert.ok(e.cause instanceof Error);
    }
    const left = [];
    for await (const f of Deno.readDir(dir)) left.push(f.name);
    assert.deepEqual(left, ["file"]); // nothing half-written
    x.w.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeSafetensorsFile: a full disk (ENOSPC) names the target, removes the temp file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_st_full_" });
  const open = Deno.open;
  const enospc = Object.assign(new Error("No space left on device (os error 28)"), {
    code: "ENOSPC",
  });
  // A file whose writes fail as on a full disk (the temp file itself is really created).
  Object.assign(Deno, {
    open: async (path: string | URL, o: Deno.OpenOptions) => {
      const f = await open(path, o);
      return Object.assign(Object.create(f), {
        write: () => Promise.reject(enospc),
        [Symbol.dispose]: () => f.close(),
      });
    },
  });
  try {
    const target = `${dir}/ck.safetensors`;
    const x = T.tensor([1, 2]);
    const e = await T.writeSafetensorsFile(target, { x }).then(() => null, (e: unknown) => e);
    x.dispose();
    assert.ok(e instanceof T.TesseraError, String(e));
    assert.equal(
      e.message,
      `writeSafetensorsFile: cannot write ${target}: No space left on device (os error 28) [ENOSPC]`,
    );
    assert.equal(e.cause, enospc);
  } finally {
    Object.assign(Deno, { open });
  }
  const left = [];
  for await (const f of Deno.readDir(dir)) left.push(f.name);
  assert.deepEqual(left, []);
  await Deno.remove(dir, { recursive: true });
});
