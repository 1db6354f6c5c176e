import assert from "node:assert/strict";
import fc from "fast-check";
import { arrayFor, type DType } from "../../tensor/dtype.ts";
import { TesseraError } from "../../tensor/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  MAX_HEADER_SIZE,
  type SafetensorsEntry,
  saveSafetensors,
} from "../../tensor/safetensors.ts";
import { readSafetensorsFile, writeSafetensorsFile } from "../../tensor/safetensors_file.ts";
import { tensor } from "../../tensor/creation.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import "../../tensor/cpu/mod.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const enc = new TextEncoder();

/** Builds a file from a raw header string (not padded unless asked) and data bytes. */
function build(header: string, data: ArrayLike<number> = [], headerLen?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** A header with one tensor `w`. */
function one(info: unknown, data: ArrayLike<number> = [], extra = ""): Uint8Array {
  return build(`{${extra}"w":${JSON.stringify(info)}}`, data);
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => decodeSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof TesseraError, `expected TesseraError, got ${e}`);
    assert.match(e.message, /^safetensors: /);
    assert.match(e.message, pattern);
    return true;
  });
}

function allDtypes(): Record<string, SafetensorsEntry> {
  return {
    f32: {
      dtype: "float32",
      shape: [2, 3],
      data: Float32Array.of(1, -0, NaN, Infinity, -3.5e38, 1e-45),
    },
    f64: { dtype: "float64", shape: [3], data: Float64Array.of(Math.PI, -Infinity, 5e-324) },
    i32: { dtype: "int32", shape: [2, 1], data: Int32Array.of(-2147483648, 2147483647) },
    u32: { dtype: "uint32", shape: [2], data: Uint32Array.of(0, 4294967295) },
    bool: { dtype: "bool", shape: [1, 3], data: Uint8Array.of(1, 0, 1) },
    scalar_f32: { dtype: "float32", shape: [], data: Float32Array.of(7.25) },
    scalar_bool: { dtype: "bool", shape: [], data: Uint8Array.of(1) },
    scalar_i32: { dtype: "int32", shape: [], data: Int32Array.of(-9) },
    empty_f64: { dtype: "float64", shape: [0], data: new Float64Array(0) },
    empty_u32: { dtype: "uint32", shape: [2, 0, 3], data: new Uint32Array(0) },
    empty_bool: { dtype: "bool", shape: [0, 1], data: new Uint8Array(0) },
  };
}

Deno.test("safetensors: round trip of every dtype, rank-0 and zero-size tensors", () => {
  const entries = allDtypes();
  const meta = { format: "pt", "ünïcode ✓": 'value with "quotes"\n' };
  const out = decodeSafetensors(encodeSafetensors(entries, meta));
  assert.deepEqual(out.metadata, meta);
  assert.deepEqual(Object.keys(out.entries).sort(), Object.keys(entries).sort());
  for (const [name, e] of Object.entries(entries)) assert.deepEqual(out.entries[name], e, name);
  assert.deepEqual(decodeSafetensors(encodeSafetensors({})), { entries: {}, metadata: {} });
});

Deno.test("safetensors: byte-exact layout (LE length, space padding, alignment-then-name order)", () => {
  const bytes = encodeSafetensors({
    b: { dtype: "float32", shape: [2], data: Float32Array.of(1, -2) },
  });
  const json = '{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  assert.equal(json.length, 54);
  const expected = [56, 0, 0, 0, 0, 0, 0, 0, ...enc.encode(json), 32, 32];
  expected.push(0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0); // 1.0f, -2.0f little-endian
  assert.deepEqual([...bytes], expected);

  assert.deepEqual([...encodeSafetensors({})], [
    8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    123,
    125,
    32,
    32,
    32,
    32,
    32,
    32,
  ]);

  const mixed = encodeSafetensors({
    a: { dtype: "bool", shape: [3], data: Uint8Array.of(1, 0, 1) },
    m: { dtype: "float32", shape: [], data: Float32Array.of(1) },
    z: { dtype: "float64", shape: [1], data: Float64Array.of(1) },
    b: { dtype: "int32", shape: [1], data: Int32Array.of(1) },
  }, { k: "v" });
  const n = Number(new DataView(mixed.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  assert.equal(mixed.length, 8 + n + 8 + 4 + 4 + 3);
  const header = new TextDecoder().decode(mixed.subarray(8, 8 + n));
  assert.equal(
    header.trimEnd(),
    '{"__metadata__":{"k":"v"},"z":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},' +
      '"m":{"dtype":"F32","shape":[],"data_offsets":[12,16]},' +
      '"a":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}',
  );
});

Deno.test("safetensors: interop with the PyTorch/NumPy-written fixture (all decodable dtypes)", () => {
  const { entries: e, metadata } = decodeSafetensors(
    Deno.readFileSync(new URL("interop.safetensors", FIXTURES)),
  );
  assert.deepEqual(metadata, {
    format: "pt",
    note: 'héllo ✓ "quoted"',
    generator: "tools/make_fixtures.py",
  });
  const same = (name: string, ref: string, dtype: string) => {
    assert.equal(e[name]!.dtype, dtype, name);
    assert.deepEqual(e[name]!.shape, e[ref]!.shape, name);
    assert.deepEqual([...e[name]!.data], [...e[ref]!.data], name);
  };
  same("f16", "f16_as_f32", "float32");
  same("bf16", "bf16_as_f32", "float32");
  same("i64", "i64_as_f64", "int32");
  same("u64", "u64_as_f64", "uint32");
  for (const k of ["i8", "u8", "i16", "u16"]) same(k, `${k}_as_f64`, "int32");
  assert.ok(Object.is(e.f16!.data[1], -0));
  assert.deepEqual(e.f32_scalar, { dtype: "float32", shape: [], data: Float32Array.of(3.5) });
  assert.deepEqual(e.empty, { dtype: "float32", shape: [0, 3], data: new Float32Array(0) });
  assert.deepEqual(e.bool, { dtype: "bool", shape: [1, 3], data: Uint8Array.of(1, 0, 1) });
  assert.deepEqual(e.f64!.data, Float64Array.of(1, 2, 3, 1e-300));
  assert.deepEqual(e.u32!.data, Uint32Array.of(4294967295, 0));
});

Deno.test("safetensors: re-encoding the Python-written op fixture reproduces it byte for byte", () => {
  const bytes = Deno.readFileSync(new URL("torch_ops.safetensors", FIXTURES));
  const { entries, metadata } = decodeSafetensors(bytes);
  assert.ok(Object.keys(entries).length > 100);
  assert.deepEqual(encodeSafetensors(entries, metadata), bytes);
});

Deno.test("safetensors: unaligned input is copied, never aliased", () => {
  const file = encodeSafetensors({
    x: { dtype: "float64", shape: [2], data: Float64Array.of(1.5, -2) },
  });
  const big = new Uint8Array(file.length + 3);
  big.set(file, 3);
  const view = big.subarray(3);
  const out = decodeSafetensors(view).entries.x!;
  assert.deepEqual(out.data, Float64Array.of(1.5, -2));
  assert.notEqual(out.data.buffer, big.buffer);
  view.fill(0, view.length - 16);
  assert.deepEqual(out.data, Float64Array.of(1.5, -2));
});

Deno.test("safetensors: a tensor named __proto__ is an ordinary entry", () => {
  const entries = JSON.parse('{"__proto__":{"dtype":"int32","shape":[1]}}');
  entries.__proto__.data = Int32Array.of(5);
  const out = decodeSafetensors(encodeSafetensors(entries)).entries;
  assert.ok(Object.hasOwn(out, "__proto__"));
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, "__proto__")!.value.data, Int32Array.of(5));
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
});

Deno.test("safetensors: malformed files give TesseraErrors that say what is wrong", () => {
  const f32 = (shape: number[], offs: number[]) => ({ dtype: "F32", shape, data_offsets: offs });
  rejects(new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/);
  rejects(new Uint8Array(7), /7 bytes/);
  rejects(
    build("{}", [], BigInt(MAX_HEADER_SIZE + 1)),
    /header length 100000001 exceeds the maximum/,
  );
  rejects(build("{}", [], 2n ** 64n - 1n), /exceeds the maximum/);
  rejects(build("{}", [], 3n), /header length 3 runs past the end of the 10-byte file/);
  const badUtf8 = build("{}  ");
  badUtf8.set([0xff, 0xfe], 10);
  rejects(badUtf8, /not valid UTF-8/);
  rejects(build('{"w": '), /not valid JSON/);
  rejects(build("[]"), /must be a JSON object, got an array/);
  rejects(build("null"), /must be a JSON object, got null/);
  rejects(build("7"), /must be a JSON object/);
  rejects(one([1, 2]), /tensor "w": entry must be an object/);
  rejects(
    one({ shape: [1], data_offsets: [0, 4] }, [0, 0, 0, 0]),
    /tensor "w": missing or non-string dtype/,
  );
  rejects(
    one({ dtype: 4, shape: [1], data_offsets: [0, 4] }),
    /tensor "w": missing or non-string dtype/,
  );
  rejects(
    one({ dtype: "C64", shape: [1], data_offsets: [0, 8] }),
    /tensor "w": unsupported dtype "C64"/,
  );
  rejects(
    one({ dtype: "toString", shape: [], data_offsets: [0, 0] }),
    /unsupported dtype "toString"/,
  );
  rejects(one({ dtype: "F32", data_offsets: [0, 4] }), /tensor "w": missing shape/);
  rejects(
    one(f32([-1], [0, 0])),
    /tensor "w": shape must be an array of non-negative integers, got \[-1\]/,
  );
  rejects(one(f32([1.5], [0, 0])), /shape must be/);
  rejects(one({ dtype: "F32", shape: "2", data_offsets: [0, 8] }), /shape must be/);
  rejects(one(f32([2 ** 40, 2 ** 40], [0, 0])), /tensor "w": shape \[.*\] has too many elements/);
  rejects(one({ dtype: "F32", shape: [1] }), /tensor "w": data_offsets must be \[begin, end\]/);
  rejects(one(f32([1], [0])), /data_offsets must be/);
  rejects(one(f32([1], [-4, 0])), /data_offsets must be/);
  rejects(one(f32([1], [0, 2.5])), /data_offsets must be/);
  rejects(one(f32([1], [8, 4]), new Array(8).fill(0)), /tensor "w": data_offsets begin 8 > end 4/);
  rejects(
    one(f32([1], [0, 4]), [0, 0]),
    /tensor "w": data_offsets end 4 is beyond the 2-byte data buffer/,
  );
  rejects(
    one(f32([2], [0, 4]), [0, 0, 0, 0]),
    /tensor "w": 4 bytes but shape \[2\] of F32 needs 8/,
  );
  const two = (a: number[], b: number[], n: number) =>
    build(
      `{"a":${JSON.stringify(f32([1], a))},"b":${JSON.stringify(f32([1], b))}}`,
      new Array(n).fill(0),
    );
  rejects(two([0, 4], [2, 6], 6), /tensor "b": data range \[2,6\) overlaps tensor "a"/);
  rejects(two([0, 4], [8, 12], 12), /tensor "b": gap in the data buffer at bytes \[4,8\)/);
  rejects(two([4, 8], [4, 8], 8), /gap in the data buffer at bytes \[0,4\)/);
  rejects(two([0, 4], [4, 8], 9), /data buffer is 9 bytes but the tensors cover only 8/);
  rejects(
    one(f32([1], [0, 4]), [0, 0, 0, 0], '"__metadata__":{"a":1},'),
    /"__metadata__" value for "a" must be a string/,
  );
  rejects(
    one(f32([1], [0, 4]), [0, 0, 0, 0], '"__metadata__":["x"],'),
    /"__metadata__" must be an object/,
  );
  const i64 = (v: bigint, st = "I64") => {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    return one({ dtype: st, shape: [1], data_offsets: [0, 8] }, d);
  };
  assert.deepEqual(decodeSafetensors(i64(-5n)).entries.w!.data, Int32Array.of(-5));
  rejects(i64(2n ** 31n), /tensor "w": I64 element 0 = 2147483648 does not fit in int32/);
  rejects(i64(-(2n ** 31n) - 1n), /does not fit in int32/);
  rejects(i64(2n ** 32n, "U64"), /tensor "w": U64 element 0 = 4294967296 does not fit in uint32/);
  rejects(
    one({ dtype: "BOOL", shape: [2], data_offsets: [0, 2] }, [1, 2]),
    /tensor "w": BOOL element 1 is 2/,
  );
});

Deno.test("safetensors: encoding rejects inconsistent entries", () => {
  const bad = (entries: unknown, meta: unknown, pattern: RegExp) =>
    assert.throws(
      () =>
        encodeSafetensors(
          entries as Record<string, SafetensorsEntry>,
          meta as Record<string, string>,
        ),
      (e: unknown) => e instanceof TesseraError && pattern.test(e.message),
    );
  const ok = { dtype: "float32", shape: [1], data: Float32Array.of(1) };
  bad(
    { w: { ...ok, data: Float64Array.of(1) } },
    undefined,
    /tensor "w": data must be the typed array for dtype float32/,
  );
  bad(
    { w: { ...ok, data: Int16Array.of(1), dtype: "bool" } },
    undefined,
    /typed array for dtype bool/,
  );
  bad({ w: { ...ok, shape: [2] } }, undefined, /tensor "w": 1 values do not fill shape \[2\]/);
  bad({ w: { ...ok, dtype: "int8" } }, undefined, /unknown dtype "int8"/);
  bad({ w: { ...ok, shape: [-1] } }, undefined, /shape must be/);
  bad({ __metadata__: ok }, undefined, /reserved/);
  bad({ w: { dtype: "bool", shape: [1], data: Uint8Array.of(3) } }, undefined, /only 0 and 1/);
  bad({ w: ok }, { n: 1 }, /metadata value for "n" must be a string/);
});

/** A small valid file from random entries, for the fuzz property. */
const validFile = fc.record({
  n: fc.integer({ min: 0, max: 3 }),
  shapes: fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), {
    minLength: 3,
    maxLength: 3,
  }),
  dtypes: fc.array(fc.constantFrom<DType>("float32", "float64", "int32", "uint32", "bool"), {
    minLength: 3,
    maxLength: 3,
  }),
  meta: fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
}).map(({ n, shapes, dtypes, meta }) => {
  const entries: Record<string, SafetensorsEntry> = {};
  for (let i = 0; i < n; i++) {
    const size = shapes[i]!.reduce((a, b) => a * b, 1);
    const data = arrayFor(dtypes[i]!, size).map((_, j) => (j + i) % 2);
    entries[`t${i}`] = { dtype: dtypes[i]!, shape: shapes[i]!, data };
  }
  return encodeSafetensors(entries, meta);
});

function decodesOrTesseraError(bytes: Uint8Array): void {
  try {
    const { entries, metadata } = decodeSafetensors(bytes);
    // Whatever decodes must re-encode and decode to the same thing.
    const again = decodeSafetensors(encodeSafetensors(entries, metadata));
    assert.deepEqual(again.metadata, metadata);
    for (const [k, v] of Object.entries(entries)) {
      assert.deepEqual([...again.entries[k]!.data], [...v.data]);
    }
  } catch (e) {
    if (!(e instanceof TesseraError)) throw e;
  }
}

Deno.test("safetensors: random mutations and truncations decode or throw TesseraError", () => {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant("flip" as const),
      pos: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant("truncate" as const), pos: fc.nat(), byte: fc.constant(0) }),
    fc.record({
      kind: fc.constant("insert" as const),
      pos: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant("digit" as const),
      pos: fc.nat(),
      byte: fc.integer({ min: 48, max: 57 }),
    }),
  );
  fc.assert(
    fc.property(validFile, fc.array(mutation, { minLength: 1, maxLength: 4 }), (file, muts) => {
      let b = file.slice();
      for (const { kind, pos, byte } of muts) {
        const p = b.length ? pos % b.length : 0;
        if (kind === "flip" && b.length) b[p] = byte;
        if (kind === "truncate") b = b.slice(0, p);
        if (kind === "insert") b = Uint8Array.from([...b.subarray(0, p), byte, ...b.subarray(p)]);
        if (kind === "digit") {
          // Replace a digit inside the header JSON: perturbs shapes and offsets plausibly.
          const digits = [...b.keys()].filter((i) => i >= 8 && b[i]! >= 48 && b[i]! <= 57);
          if (digits.length) b[digits[pos % digits.length]!] = byte;
        }
      }
      decodesOrTesseraError(b);
    }),
    { numRuns: 2000, seed: 20240611 },
  );
});

Deno.test("safetensors: arbitrary JSON in header fields decodes or throws TesseraError", () => {
  const field = fc.oneof(fc.jsonValue(), fc.constantFrom("F32", "BOOL", "I64", [0, 4], [1], []));
  fc.assert(
    fc.property(field, field, field, fc.jsonValue(), fc.nat(12), (dtype, shape, offs, meta, n) => {
      const info = JSON.stringify({ dtype, shape, data_offsets: offs });
      decodesOrTesseraError(
        build(`{"__metadata__":${JSON.stringify(meta)},"w":${info}}`, new Array(n).fill(1)),
      );
      decodesOrTesseraError(build(`{"w":${info}}`, new Array(n).fill(0)));
    }),
    { numRuns: 400, seed: 7 },
  );
});

Deno.test("safetensors: saveSafetensors / loadSafetensors round-trip tensors", async () => {
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of Object.entries(allDtypes())) {
    tensors[name] = tensor(e.data, { shape: e.shape, dtype: e.dtype });
  }
  const bytes = await saveSafetensors(tensors, { step: "3" });
  const { tensors: back, metadata } = loadSafetensors(bytes, { backend: "cpu" });
  assert.deepEqual(metadata, { step: "3" });
  for (const [name, t] of Object.entries(tensors)) {
    const u = back[name]!;
    assert.equal(u.dtype, t.dtype);
    assert.deepEqual(u.shape, t.shape);
    assert.deepEqual(await u.data(), await t.data());
    assert.equal(u.backend.name, "cpu");
  }
  await assert.rejects(
    saveSafetensors({ x: 3 as unknown as Tensor }),
    /safetensors: tensor "x": expected a Tensor/,
  );
  assert.throws(() => loadSafetensors(bytes, { backend: "nope" }));
});

Deno.test("safetensors file: atomic write replaces the file whole and cleans up on failure", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.safetensors`;
    const big = (v: number) => ({ w: tensor(new Float32Array(1 << 16).fill(v)), v: tensor([v]) });
    const [a, b] = [big(1), big(2)];
    await writeSafetensorsFile(path, a, { version: "a" });
    // Concurrent readers only ever see a complete old or new file.
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const { tensors, metadata } = await readSafetensorsFile(path);
        assert.equal(tensors.w!.size, 1 << 16);
        const v = (await tensors.v!.data())[0]!;
        assert.equal(metadata.version, v === 1 ? "a" : "b");
        assert.ok((await tensors.w!.data()).every((x) => x === v));
        seen.add(metadata.version!);
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    for (let i = 0; i < 20; i++) {
      await writeSafetensorsFile(path, i % 2 ? a : b, { version: i % 2 ? "a" : "b" });
    }
    stop = true;
    await reader;
    assert.ok(seen.size >= 1);
    const names = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names(), ["model.safetensors"]);

    await writeSafetensorsFile(new URL(`file://${path}`), a, { version: "a" }); // URLs work too
    assert.deepEqual(names(), ["model.safetensors"]);
    // Failure while encoding: the old file stays, nothing is created.
    const disposed = tensor([1]);
    disposed.dispose();
    await assert.rejects(writeSafetensorsFile(path, { x: disposed }), TesseraError);
    assert.equal((await readSafetensorsFile(new URL(`file://${path}`))).metadata.version, "a");
    // Failure at rename (the target is a non-empty directory): the temp file is removed.
    await Deno.mkdir(`${dir}/sub/inner`, { recursive: true });
    await assert.rejects(writeSafetensorsFile(`${dir}/sub`, a));
    assert.deepEqual(names(), ["model.safetensors", "sub"]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["inner"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
