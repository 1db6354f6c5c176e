import assert from "node:assert/strict";
import { encodeIdx, readIdx, readIdxFile } from "../../data/idx.ts";
import { TesseraError } from "../../tensor/errors.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Raw IDX bytes from a header given as bytes and a body. */
function raw(header: number[], body: number[] = []): Uint8Array {
  return new Uint8Array([...header, ...body]);
}

/** Awaits `p`, expecting it to reject with a TesseraError, and returns that error. */
async function rejection(p: Promise<unknown>): Promise<TesseraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TesseraError, `expected a TesseraError, got ${e}`);
    return e;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

async function rejectsIdx(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const err = await rejection(readIdx(bytes));
  assert.equal(err.op, "readIdx");
  assert.match(err.message, pattern);
}

const images = new Uint8Array(2 * 3 * 4).map((_, i) => i * 10);

Deno.test("readIdx() parses raw image and label files", async () => {
  const img = await readIdx(encodeIdx([2, 3, 4], images));
  assert.deepEqual(img.dims, [2, 3, 4]);
  assert.deepEqual([...img.data], [...images]);
  const lab = await readIdx(raw([0, 0, 8, 1, 0, 0, 0, 3], [9, 0, 7]));
  assert.deepEqual(lab.dims, [3]);
  assert.deepEqual([...lab.data], [9, 0, 7]);
});

Deno.test("readIdx() reads big-endian dimensions", async () => {
  const n = 0x0102;
  const { dims, data } = await readIdx(encodeIdx([n], new Uint8Array(n)));
  assert.deepEqual(dims, [258]);
  assert.deepEqual(data.length, 258);
  const bytes = encodeIdx([n], new Uint8Array(n));
  assert.deepEqual([...bytes.subarray(0, 8)], [0, 0, 8, 1, 0, 0, 1, 2]);
});

Deno.test("readIdx() inflates gzip input", async () => {
  const img = await readIdx(await gzip(encodeIdx([2, 3, 4], images)));
  assert.deepEqual(img.dims, [2, 3, 4]);
  assert.deepEqual([...img.data], [...images]);
});

Deno.test("readIdx() accepts empty data", async () => {
  const { dims, data } = await readIdx(raw([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]));
  assert.deepEqual(dims, [0, 28, 28]);
  assert.deepEqual(data.length, 0);
});

Deno.test("readIdx() rejects bad magic", async () => {
  await rejectsIdx(raw([1, 0, 8, 1, 0, 0, 0, 0]), /bad magic 0x01000801/);
  await rejectsIdx(raw([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), /bad magic 0x504b0304/);
});

Deno.test("readIdx() rejects dtype codes other than unsigned byte", async () => {
  await rejectsIdx(raw([0, 0, 0x0d, 1, 0, 0, 0, 1], [0, 0, 0, 0]), /dtype code 0x0d \(float32\)/);
  await rejectsIdx(raw([0, 0, 0x42, 1, 0, 0, 0, 0]), /dtype code 0x42 \(unknown\)/);
});

Deno.test("readIdx() rejects zero dimensions", async () => {
  await rejectsIdx(raw([0, 0, 8, 0]), /zero dimensions/);
});

Deno.test("readIdx() rejects a truncated header", async () => {
  await rejectsIdx(raw([]), /truncated header: 0 bytes/);
  await rejectsIdx(raw([0, 0, 8]), /truncated header: 3 bytes/);
  await rejectsIdx(raw([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), /3 dimensions need 16 bytes, got 10/);
});

Deno.test("readIdx() rejects truncated data", async () => {
  const full = encodeIdx([2, 3, 4], images);
  await rejectsIdx(
    full.subarray(0, full.length - 1),
    /truncated data: dims \[2,3,4\] need 24 bytes/,
  );
});

Deno.test("readIdx() rejects trailing bytes", async () => {
  await rejectsIdx(raw([0, 0, 8, 1, 0, 0, 0, 2], [1, 2, 3]), /1 unexpected bytes after the data/);
});

Deno.test("readIdx() rejects corrupt and truncated gzip", async () => {
  const gz = await gzip(encodeIdx([2, 3, 4], images));
  await rejectsIdx(gz.subarray(0, gz.length - 10), /gzip data is corrupt or truncated/);
  const bad = gz.slice();
  bad.fill(0xff, 10, 20);
  await rejectsIdx(bad, /gzip data is corrupt or truncated/);
  await rejectsIdx(raw([0x1f, 0x8b]), /gzip data is corrupt or truncated/);
});

Deno.test("readIdx() checks the inflated data too", async () => {
  const full = encodeIdx([2, 3, 4], images);
  await rejectsIdx(await gzip(full.subarray(0, 20)), /truncated data/);
});

Deno.test("readIdxFile() reads files and names them in errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_idx_" });
  try {
    const good = `${dir}/good-idx3-ubyte.gz`;
    await Deno.writeFile(good, await gzip(encodeIdx([2, 3, 4], images)));
    const { dims } = await readIdxFile(good);
    assert.deepEqual(dims, [2, 3, 4]);
    assert.deepEqual((await readIdxFile(new URL(`file://${good}`))).dims, [2, 3, 4]);

    const bad = `${dir}/bad-idx1-ubyte`;
    await Deno.writeFile(bad, raw([0, 0, 0x0c, 1, 0, 0, 0, 0]));
    const err = await rejection(readIdxFile(bad));
    assert.deepEqual(err.op, "readIdx");
    assert.ok(err.message.startsWith(`readIdx: ${bad}: unsupported dtype code 0x0c`), err.message);

    const truncated = `${dir}/truncated-idx1-ubyte.gz`;
    await Deno.writeFile(truncated, await gzip(raw([0, 0, 8, 1, 0, 0, 0, 5], [1, 2])));
    const err2 = await rejection(readIdxFile(truncated));
    assert.match(err2.message, new RegExp(`^readIdx: ${truncated}: truncated data`));

    const missing = `${dir}/missing.gz`;
    const err3 = await rejection(readIdxFile(missing));
    assert.match(err3.message, new RegExp(`^readIdx: cannot read ${missing}: `));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encodeIdx() rejects bad dims and data", () => {
  const throws = (f: () => unknown, pattern: RegExp) =>
    assert.throws(
      f,
      (e) => e instanceof TesseraError && e.op === "encodeIdx" && pattern.test(e.message),
    );
  throws(() => encodeIdx([], new Uint8Array(0)), /needs 1 to 255 dimensions/);
  throws(() => encodeIdx([2, -1], new Uint8Array(0)), /bad dimension -1/);
  throws(() => encodeIdx([2, 2], new Uint8Array(3)), /need 4 bytes of data/);
});
