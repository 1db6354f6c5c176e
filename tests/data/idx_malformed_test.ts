/**
 * Malformed IDX input, as a table (like the safetensors one): every case is rejected by
 * readIdx / readIdxFile / encodeIdx with a TesseraError that says what is wrong, never a raw
 * RangeError or a hang, whatever the header claims.
 */
import assert from "node:assert/strict";
import { encodeIdx, readIdx, readIdxFile } from "../../data/idx.ts";
import { TesseraError } from "../../tensor/errors.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const u8 = (...b: number[]) => new Uint8Array(b);
/** A header with `ndim` big-endian uint32 dims and the given body length. */
function header(dims: number[], body = 0, code = 8): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body);
  const view = new DataView(out.buffer);
  view.setUint32(0, (code << 8) | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return out;
}
const good = () => encodeIdx([2, 3], u8(1, 2, 3, 4, 5, 6));
// deno-lint-ignore no-explicit-any
const loose = (x: unknown): any => x;

/** [case, input (bytes or a builder), what the message must match]. */
const CASES: [string, () => unknown | Promise<unknown>, RegExp][] = [
  ["empty", () => u8(), /truncated header: 0 bytes/],
  ["one byte", () => u8(0), /truncated header: 1 bytes/],
  ["magic only, no dims", () => u8(0, 0, 8, 2, 0, 0), /2 dimensions need 12 bytes, got 6/],
  ["255 dimensions, short header", () => u8(0, 0, 8, 255), /255 dimensions need 1024 bytes/],
  ["zero dimensions", () => u8(0, 0, 8, 0), /zero dimensions/],
  ["nonzero first byte", () => u8(1, 0, 8, 1, 0, 0, 0, 0), /bad magic 0x01000801/],
  ["a PNG", () => u8(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), /bad magic 0x89504e47/],
  ["a ZIP", () => u8(0x50, 0x4b, 3, 4, 0, 0, 0, 0), /bad magic 0x504b0304/],
  ["text", () => new TextEncoder().encode("hello world"), /bad magic 0x68656c6c/],
  ["float32 data", () => header([1], 4, 0x0d), /dtype code 0x0d \(float32\)/],
  ["int32 data", () => header([1], 4, 0x0c), /dtype code 0x0c \(int32\)/],
  ["signed bytes", () => header([1], 1, 0x09), /dtype code 0x09 \(signed byte\)/],
  ["unknown code", () => header([1], 1, 0x42), /dtype code 0x42 \(unknown\)/],
  [
    "100 MB claimed, 10 bytes given",
    () => header([100_000_000], 10),
    /need 100000000 bytes.*got 10/,
  ],
  [
    "dims multiplying past 2^53",
    () => header([0xffffffff, 0xffffffff, 0xffffffff], 3),
    /truncated data: dims \[4294967295,4294967295,4294967295\]/,
  ],
  ["one byte short", () => good().subarray(0, 17), /need 6 bytes after the header, got 5/],
  ["trailing bytes", () => Uint8Array.from([...good(), 0, 0]), /2 unexpected bytes/],
  ["gzip magic only", () => u8(0x1f, 0x8b), /gzip data is corrupt or truncated/],
  ["truncated gzip", async () => (await gzip(good())).subarray(0, 12), /gzip data is corrupt/],
  ["gzip of a bad header", async () => await gzip(u8(0, 0, 0x0d, 1)), /dtype code 0x0d/],
  ["gzip of gzip", async () => await gzip(await gzip(good())), /bad magic 0x1f8b/],
  [
    "a string",
    () => "abc",
    /bytes must be a Uint8Array, got the string "abc" \(to read a file, use readIdxFile/,
  ],
  ["a URL", () => new URL("file:///x"), /got URL \(to read a file, use readIdxFile/],
  ["an ArrayBuffer", () => new ArrayBuffer(8), /bytes must be a Uint8Array, got ArrayBuffer/],
  ["a number array", () => [0, 0, 8, 1], /bytes must be a Uint8Array, got Array/],
  ["an Int8Array", () => new Int8Array(8), /got Int8Array/],
  ["null", () => null, /got null/],
  ["undefined", () => undefined, /got undefined/],
];

for (const [name, input, pattern] of CASES) {
  Deno.test(`readIdx malformed: ${name}`, async () => {
    const bytes = await input();
    const err = await readIdx(loose(bytes)).then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TesseraError, `expected a TesseraError, got ${err}`);
    assert.equal(err.op, "readIdx");
    assert.match(err.message, pattern);
  });
}

Deno.test("readIdxFile malformed: a directory, a wrongly typed path, a malformed file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_idx_bad_" });
  try {
    const cases: [unknown, RegExp][] = [
      [dir, new RegExp(`^readIdx: cannot read ${dir}: `)],
      [42, /^readIdx: path must be a string or URL, got number/],
      [null, /^readIdx: path must be a string or URL, got null/],
      [u8(1, 2), /^readIdx: path must be a string or URL, got Uint8Array/],
    ];
    const bad = `${dir}/bad-idx3-ubyte`;
    await Deno.writeFile(bad, header([100_000_000, 28, 28], 10));
    cases.push([bad, new RegExp(`^readIdx: ${bad}: truncated data: dims \\[100000000,28,28\\]`)]);
    for (const [path, pattern] of cases) {
      await assert.rejects(() => readIdxFile(loose(path)), TesseraError);
      await readIdxFile(loose(path)).catch((e: TesseraError) => assert.match(e.message, pattern));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encodeIdx malformed: wrongly typed dims and data", () => {
  const cases: [unknown, unknown, RegExp][] = [
    ["3", u8(1, 2, 3), /dims must be an array, got the string "3"/],
    [null, u8(), /dims must be an array, got null/],
    [[3], [1, 2, 3], /data must be a Uint8Array, got Array/],
    [[3], "abc", /data must be a Uint8Array, got the string/],
    [[NaN], u8(), /bad dimension NaN/],
    [[2 ** 32], u8(), /bad dimension 4294967296/],
    [[], u8(), /needs 1 to 255 dimensions, got 0/],
  ];
  for (const [dims, data, pattern] of cases) {
    assert.throws(() => encodeIdx(loose(dims), loose(data)), (e: unknown) => {
      assert.ok(e instanceof TesseraError && e.op === "encodeIdx", String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});
