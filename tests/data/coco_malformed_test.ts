/**
 * Malformed-file tables of the COCO JSON and label PNG loaders, as the safetensors and IDX
 * readers have: each broken file is a {@link TesseraError} of the loader naming the file and
 * the field (never a raw JS error), and a valid file cut at every length or with any field
 * replaced by a value of the wrong type still only ever gives such an error.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "npm:sharp@0.34.5";
import { TesseraError } from "../../tensor/errors.ts";
import { loadCocoGt, loadCocoResults, parseCocoGt } from "../../data/coco/json.ts";
import { encodeLabelPng, readLabelPng } from "../../data/label_png.ts";

const VALID = {
  images: [
    { id: 1, width: 10, height: 8, file_name: "a.png" },
    { id: 2, width: 4, height: 4, file_name: "b.png" },
  ],
  categories: [{ id: 1, name: "shirt" }, { id: 3, name: "bag" }],
  annotations: [
    {
      id: 1,
      image_id: 1,
      category_id: 1,
      bbox: [1, 1, 4, 3],
      area: 12,
      iscrowd: 0,
      segmentation: [[1, 1, 5, 1, 5, 4, 1, 4]],
    },
    {
      id: 2,
      image_id: 2,
      category_id: 3,
      bbox: [0, 0, 2, 2],
      area: 4,
      iscrowd: 1,
      segmentation: { size: [4, 4], counts: [0, 4, 12] },
    },
  ],
};

type Doc = typeof VALID & Record<string, unknown>;
const clone = (): Doc => structuredClone(VALID) as Doc;

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Rejects with a TesseraError of `op` whose message names `file` and matches `field`. */
async function rejectsNaming(p: Promise<unknown>, op: string, file: string, field: RegExp) {
  const e = await p.then(() => null, (e) => e);
  assert.ok(e !== null, `${file}: accepted (${field})`);
  assert.ok(e instanceof TesseraError, `${file}: a raw ${e?.name}: ${e?.message}`);
  assert.equal(e.op, op);
  assert.ok(e.message.includes(file), `the message names no file: ${e.message}`);
  assert.match(e.message, field);
}

const GT_CASES: [string, (d: Doc) => unknown, RegExp][] = [
  ["top level an array", () => [VALID], /top level is not an object/],
  ["no images", (d) => ({ ...d, images: undefined }), /"images" is missing/],
  ["no annotations", (d) => ({ ...d, annotations: undefined }), /"annotations" is missing/],
  ["categories an object", (d) => ({ ...d, categories: {} }), /"categories" .*not an array/],
  ["image id a string", (d) => (d.images[0]!.id = "1" as never, d), /images\[0\]: id "1"/],
  ["image width a string", (d) => (d.images[1]!.width = "4" as never, d), /image id 2: width/],
  ["image height 0", (d) => (d.images[0]!.height = 0, d), /image id 1: height 0/],
  ["image id twice", (d) => (d.images[1]!.id = 1, d), /image id 1 appears twice/],
  ["category id null", (d) => (d.categories[1]!.id = null as never, d), /categories\[1\]: id/],
  ["annotation id 0", (d) => (d.annotations[0]!.id = 0, d), /annotations\[0\]: id 0/],
  ["annotation not an object", (d) => (d.annotations[1] = 7 as never, d), /annotations\[1\]/],
  ["image id missing", (d) => (d.annotations[0]!.image_id = 9, d), /id 1: image_id 9 is not/],
  [
    "no image id",
    (d) => (delete (d.annotations[1] as Partial<Doc["annotations"][0]>).image_id, d),
    /annotation id 2: image_id undefined/,
  ],
  [
    "category not in categories",
    (d) => (d.annotations[0]!.category_id = 2, d),
    /id 1: category_id 2 is not/,
  ],
  [
    "bbox of 3",
    (d) => (d.annotations[0]!.bbox = [1, 1, 4], d),
    /id 1: bbox \[1,1,4\] is not \[x, y, w, h\]/,
  ],
  ["bbox of 5", (d) => (d.annotations[1]!.bbox = [0, 0, 2, 2, 2], d), /id 2: bbox .* of 4/],
  [
    "bbox negative width",
    (d) => (d.annotations[0]!.bbox = [1, 1, -4, 3], d),
    /id 1: bbox .*negative width/,
  ],
  [
    "bbox negative height",
    (d) => (d.annotations[0]!.bbox = [1, 1, 4, -3], d),
    /negative width or height/,
  ],
  [
    "bbox with a string",
    (d) => (d.annotations[0]!.bbox = [1, "1", 4, 3] as never, d),
    /id 1: bbox/,
  ],
  ["area negative", (d) => (d.annotations[1]!.area = -1, d), /id 2: area -1/],
  ["iscrowd 2", (d) => (d.annotations[1]!.iscrowd = 2, d), /id 2: iscrowd 2/],
  [
    "polygon of odd length",
    (d) => (d.annotations[0]!.segmentation = [[1, 1, 5, 1, 5]], d),
    /id 1: segmentation polygon 0 .*even number/,
  ],
  ["polygon of 2", (d) => (d.annotations[0]!.segmentation = [[1, 1]], d), /polygon 0/],
  [
    "polygon not numbers",
    (d) => (d.annotations[0]!.segmentation = [["a", "b", "c", "d"]] as never, d),
    /polygon 0/,
  ],
  [
    "RLE counts sum",
    (d) => ((d.annotations[1]!.segmentation as { counts: number[] }).counts = [0, 4, 11], d),
    /id 2: segmentation counts sum to 15/,
  ],
  [
    "RLE counts negative",
    (d) => ((d.annotations[1]!.segmentation as { counts: number[] }).counts = [0, -4, 20], d),
    /id 2: segmentation counts .*integers ≥ 0/,
  ],
  [
    "RLE counts bad char",
    (d) => ((d.annotations[1]!.segmentation as { counts: unknown }).counts = "0~", d),
    /id 2: segmentation counts: .*outside/,
  ],
  [
    "RLE counts cut inside a value",
    (d) => ((d.annotations[1]!.segmentation as { counts: unknown }).counts = "0P", d),
    /id 2: segmentation counts: .*ends inside a value/,
  ],
  [
    "RLE counts an object",
    (d) => ((d.annotations[1]!.segmentation as { counts: unknown }).counts = {}, d),
    /id 2: segmentation counts/,
  ],
  [
    "RLE size wrong",
    (d) => ((d.annotations[1]!.segmentation as { size: number[] }).size = [4, 5], d),
    /id 2: segmentation RLE size \[4, 5\] differs/,
  ],
  [
    "RLE size missing",
    (d) => (delete (d.annotations[1]!.segmentation as { size?: number[] }).size, d),
    /id 2: segmentation size undefined/,
  ],
  [
    "segmentation a number",
    (d) => (d.annotations[1]!.segmentation = 3 as never, d),
    /id 2: segmentation 3 is neither/,
  ],
];

Deno.test("COCO ground truth: every malformed file is a loadCocoGt error naming file and field", async () => {
  await withDir(async (dir) => {
    assert.equal(parseCocoGt(clone()).imgIds.length, 2);
    for (const [i, [what, make, field]] of GT_CASES.entries()) {
      const file = join(dir, `gt-${i}.json`);
      await Deno.writeTextFile(file, JSON.stringify(make(clone())));
      await rejectsNaming(loadCocoGt(file), "loadCocoGt", file, field).catch((e) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    const text = JSON.stringify(VALID);
    const cut = join(dir, "cut.json");
    await Deno.writeTextFile(cut, text.slice(0, 40));
    await rejectsNaming(loadCocoGt(cut), "loadCocoGt", cut, /not JSON/);
    await Deno.writeTextFile(cut, "");
    await rejectsNaming(loadCocoGt(cut), "loadCocoGt", cut, /not JSON/);
    await Deno.writeFile(cut, Uint8Array.of(0xff, 0xfe, 0x00, 0x7b));
    await rejectsNaming(loadCocoGt(cut), "loadCocoGt", cut, /not JSON/);
  });
});

Deno.test("COCO results: every malformed file is a loadCocoResults error naming file and field", async () => {
  const gt = parseCocoGt(clone());
  const ok = { image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], score: 0.5 };
  const rle = { size: [4, 4], counts: "013000000" };
  const cases: [unknown, RegExp][] = [
    [{}, /top level is not an array/],
    [[3], /result 0 is not an object/],
    [[ok, { ...ok, image_id: 7 }], /result 1: image_id 7 is not an image/],
    [[{ ...ok, image_id: undefined }], /result 0: image_id undefined/],
    [[{ ...ok, category_id: 2 }], /result 0: category_id 2 is not a category/],
    [[{ ...ok, bbox: [0, 0, 1] }], /result 0: bbox \[0,0,1\]/],
    [[{ ...ok, bbox: [0, 0, -1, 1] }], /result 0: bbox .*negative/],
    [[{ ...ok, score: "high" }], /result 0: score "high"/],
    [[{ ...ok, score: undefined }], /result 0: score undefined/],
    [[ok, { image_id: 1, category_id: 1, score: 1 }], /result 1: has no bbox/],
    [[{ image_id: 2, category_id: 3, score: 1 }], /result 0: has neither bbox nor segmentation/],
    [
      [{ image_id: 2, category_id: 3, score: 1, segmentation: [[0, 0, 1, 0, 1, 1]] }],
      /result 0: segmentation must be a compressed RLE/,
    ],
    [
      [{ image_id: 2, category_id: 3, score: 1, segmentation: { ...rle, counts: "0~" } }],
      /result 0: segmentation counts: /,
    ],
    [
      [{ image_id: 1, category_id: 3, score: 1, segmentation: rle }],
      /result 0: segmentation RLE size \[4, 4\] differs from image 1's \[8, 10\]/,
    ],
  ];
  await withDir(async (dir) => {
    const good = join(dir, "good.json");
    await Deno.writeTextFile(
      good,
      JSON.stringify([{ image_id: 2, category_id: 3, score: 1, segmentation: rle }]),
    );
    assert.equal((await loadCocoResults(good, gt)).length, 1);
    for (const [i, [json, field]] of cases.entries()) {
      const file = join(dir, `res-${i}.json`);
      await Deno.writeTextFile(file, JSON.stringify(json));
      await rejectsNaming(loadCocoResults(file, gt), "loadCocoResults", file, field);
    }
    const cut = join(dir, "cut.json");
    await Deno.writeTextFile(cut, JSON.stringify([ok]).slice(0, 20));
    await rejectsNaming(loadCocoResults(cut, gt), "loadCocoResults", cut, /not JSON/);
  });
});

/** Every leaf path of a JSON value. */
function leaves(x: unknown, p: (string | number)[] = []): (string | number)[][] {
  if (x === null || typeof x !== "object") return [p];
  return Object.entries(x).flatMap(([k, v]) => leaves(v, [...p, Array.isArray(x) ? +k : k]));
}

Deno.test("COCO ground truth: a file cut anywhere, any key removed or any field of the wrong type is a loadCocoGt error or loads", async () => {
  const text = JSON.stringify(VALID);
  await withDir(async (dir) => {
    for (let n = 0; n < text.length; n += 37) {
      const file = join(dir, `cut-${n}.json`);
      await Deno.writeTextFile(file, text.slice(0, n));
      await rejectsNaming(loadCocoGt(file), "loadCocoGt", file, /not JSON/);
    }
  });
  const wrong = [undefined, null, "x", -1, 1.5, NaN, [], {}, true, [1, 2, 3]];
  let errors = 0, loads = 0;
  for (const path of leaves(VALID)) {
    for (let k = 0; k <= path.length; k++) {
      for (const w of wrong) {
        const d = clone() as unknown as Record<string | number, unknown>;
        let o = d;
        for (const key of path.slice(0, k - 1)) o = o[key] as Record<string | number, unknown>;
        if (k === 0) continue;
        if (w === undefined) delete o[path[k - 1]!];
        else o[path[k - 1]!] = w;
        try {
          parseCocoGt(d, "gt.json");
          loads++;
        } catch (e) {
          assert.ok(e instanceof TesseraError, `${path.slice(0, k).join(".")} = ${w}: ${e}`);
          assert.match(e.message, /^loadCocoGt: gt\.json: /);
          errors++;
        }
      }
    }
  }
  assert.ok(errors > 300 && loads > 0, `${errors} errors, ${loads} loads`);
});

Deno.test("label PNGs: not a PNG, truncated, wrong channels, wrong size, values above the classes", async () => {
  const map = { height: 4, width: 6, data: Uint8Array.from({ length: 24 }, (_, i) => i % 5) };
  const png = await encodeLabelPng(map);
  const raw = (channels: 1 | 3 | 4, alpha = false) => {
    const img = sharp(new Uint8Array(24 * channels), { raw: { width: 6, height: 4, channels } });
    return (alpha ? img.toColourspace("b-w").ensureAlpha() : img).png().toBuffer()
      .then((b) => new Uint8Array(b));
  };
  const withIgnore = await encodeLabelPng({
    ...map,
    data: map.data.map((v, i) => i === 7 ? 255 : v),
  });
  const cases: [string, Uint8Array | string, RegExp, object?][] = [
    ["text.png", new TextEncoder().encode("not a png at all"), /cannot decode/],
    ["empty.png", new Uint8Array(0), /cannot decode/],
    ["head.png", png.slice(0, 8), /cannot decode/],
    ["half.png", png.slice(0, Math.floor(png.length / 2)), /cannot decode/],
    ["ga.png", await raw(1, true), /2 channels, a label map has 1/],
    ["rgb.png", await raw(3), /3 channels, a label map has 1/],
    ["rgba.png", await raw(4), /4 channels, a label map has 1/],
    ["small.png", png, /small\.png is 6×4, its image 6×5/, { height: 5, width: 6 }],
    ["narrow.png", png, /narrow\.png is 6×4, its image 7×4/, { height: 4, width: 7 }],
    [
      "classes.png",
      png,
      /classes\.png: pixel 4 \(row 0, column 4\) is 4, not a class in 0\.\.3 or 255/,
      { numClasses: 4 },
    ],
    ["ignore.png", withIgnore, /ignore\.png: pixel 4 .* is 4, not a class in 0\.\.3 or 254/, {
      numClasses: 4,
      ignoreIndex: 254,
    }],
  ];
  await withDir(async (dir) => {
    for (const [name, bytes, field, expect] of cases) {
      const file = join(dir, name);
      await Deno.writeFile(file, bytes as Uint8Array);
      await rejectsNaming(readLabelPng(file, undefined, expect), "readLabelPng", file, field);
    }
    await rejectsNaming(
      readLabelPng(join(dir, "none.png")),
      "readLabelPng",
      "none.png",
      /cannot decode/,
    );
    const ok = join(dir, "ok.png");
    await Deno.writeFile(ok, withIgnore);
    const back = await readLabelPng(ok, undefined, { height: 4, width: 6, numClasses: 5 });
    assert.equal(back.data[7], 255);
  });
});
