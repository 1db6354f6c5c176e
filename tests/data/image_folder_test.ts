import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "npm:sharp@0.34.5";
import { decodeImage, ImageFolder } from "../../data/image_folder.ts";
import { luma } from "../../data/transforms/image.ts";
import { TesseraError } from "../../mod.ts";

const CHINA = "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg";

function pattern(n: number, ch: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n * ch }, (_, i) => (i * 37 + seed * 11) % 256);
}

/** A smooth 16×12 RGB gradient (JPEG-friendly). */
function smooth(): Uint8Array {
  return Uint8Array.from({ length: 16 * 12 * 3 }, (_, i) => {
    const p = Math.floor(i / 3), x = p % 16, y = Math.floor(p / 16);
    return x * 8 + y * 4 + (i % 3) * 30;
  });
}

/** Writes a small ImageFolder tree and returns its root. */
async function makeTree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "tessera_imagefolder_" });
  for (const d of ["b_cat", "a_dog", "a_dog/nested", "c_grey"]) await Deno.mkdir(join(root, d));
  const raw = (ch: 1 | 2 | 3 | 4, seed: number) =>
    sharp(pattern(4 * 3, ch, seed), { raw: { width: 4, height: 3, channels: ch } });
  await raw(3, 1).png().toFile(join(root, "a_dog", "z.png"));
  await sharp(smooth(), { raw: { width: 16, height: 12, channels: 3 } }).jpeg({ quality: 95 })
    .toFile(join(root, "a_dog", "y.JPG"));
  await raw(4, 3).png().toFile(join(root, "a_dog", "nested", "a.png"));
  await Deno.writeTextFile(join(root, "a_dog", "notes.txt"), "not an image");
  await raw(3, 4).png().toFile(join(root, "b_cat", "x.png"));
  await raw(1, 5).toColourspace("b-w").png().toFile(join(root, "c_grey", "g.png"));
  await raw(2, 6).toColourspace("b-w").png().toFile(join(root, "c_grey", "ga.png"));
  return root;
}

Deno.test("ImageFolder: torchvision's class and sample order, decoding modes", async () => {
  const root = await makeTree();
  try {
    const ds = await ImageFolder.open(root);
    assert.deepEqual(ds.classes, ["a_dog", "b_cat", "c_grey"]);
    assert.deepEqual(ds.samples.map((s) => [s.path.slice(root.length + 1), s.label]), [
      ["a_dog/y.JPG", 0],
      ["a_dog/z.png", 0],
      ["a_dog/nested/a.png", 0],
      ["b_cat/x.png", 1],
      ["c_grey/g.png", 2],
      ["c_grey/ga.png", 2],
    ]);
    // RGB PNG: exact.
    const z = await ds.get(1);
    assert.deepEqual([z.image.height, z.image.width, z.image.channels], [3, 4, 3]);
    assert.deepEqual(z.image.data, pattern(12, 3, 1));
    // JPEG: close.
    const y = (await ds.get(0)).image;
    const want = smooth();
    assert.deepEqual([y.height, y.width, y.channels], [12, 16, 3]);
    const mad = y.data.reduce((s, v, i) => s + Math.abs(v - want[i]!), 0) / want.length;
    assert.ok(mad < 3, `JPEG mean abs diff ${mad}`);
    // RGBA: alpha dropped, colour kept (PIL convert("RGB")).
    const rgba = pattern(12, 4, 3);
    const a = (await ds.get(2)).image;
    assert.deepEqual(
      [...a.data],
      [...Array(12).keys()].flatMap((p) => [...rgba.slice(4 * p, 4 * p + 3)]),
    );
    // Greyscale and grey+alpha: replicated to 3 channels.
    const g = (await ds.get(4)).image;
    assert.deepEqual([...g.data], [...pattern(12, 1, 5)].flatMap((v) => [v, v, v]));
    const ga = (await ds.get(5)).image;
    assert.deepEqual(
      [...ga.data],
      [...Array(12).keys()].flatMap((p) => Array(3).fill(pattern(12, 2, 6)[2 * p])),
    );
    // "L" mode: greyscale exact, colour through PIL's luma.
    const grey = await ImageFolder.open(root, { mode: "L" });
    assert.deepEqual((await grey.get(4)).image.data, pattern(12, 1, 5));
    const zl = (await grey.get(1)).image;
    const rgb = pattern(12, 3, 1);
    assert.deepEqual(
      [...zl.data],
      [...Array(12).keys()].map((p) => luma(rgb[3 * p]!, rgb[3 * p + 1]!, rgb[3 * p + 2]!)),
    );
    // Extensions are configurable.
    const pngOnly = await ImageFolder.open(root, { extensions: [".png"] });
    assert.equal(pngOnly.length, 5);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ImageFolder: corrupt files, class mismatches and empty folders are clear errors", async () => {
  const root = await makeTree();
  try {
    const bad = join(root, "b_cat", "broken.png");
    await Deno.writeFile(bad, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const trunc = join(root, "b_cat", "trunc.jpg");
    const full = await sharp(pattern(64 * 64, 3, 1), {
      raw: { width: 64, height: 64, channels: 3 },
    })
      .jpeg().toBuffer();
    await Deno.writeFile(trunc, full.subarray(0, full.length >> 1));
    const ds = await ImageFolder.open(root);
    const idx = (p: string) => ds.samples.findIndex((s) => s.path === p);
    for (const p of [bad, trunc]) {
      await assert.rejects(ds.get(idx(p)), (e) => {
        assert.ok(e instanceof TesseraError);
        assert.equal(e.op, "decodeImage");
        assert.ok(e.message.includes(`cannot decode ${p}`), e.message);
        return true;
      });
    }
    await assert.rejects(decodeImage(join(root, "missing.png")), /cannot read .*missing\.png/);
    await assert.rejects(
      ImageFolder.open(root, { classes: ["a_dog", "b_cat", "d_bird"] }),
      /missing: ".*d_bird"; unexpected: ".*c_grey"/,
    );
    const same = await ImageFolder.open(root, { classes: ["a_dog", "b_cat", "c_grey"] });
    assert.equal(same.length, ds.length);
    await Deno.mkdir(join(root, "d_empty"));
    await assert.rejects(ImageFolder.open(root), /no image files for classes ".*d_empty"/);
    await assert.rejects(ImageFolder.open(join(root, "nope")), /cannot read/);
    await assert.rejects(ImageFolder.open(join(root, "a_dog", "nested")), /no class folders/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "decodeImage: a real photo (Debian's sklearn china.jpg)",
  ignore: !(() => {
    try {
      return Deno.statSync(CHINA).isFile;
    } catch {
      return false;
    }
  })(),
  fn: async () => {
    const img = await decodeImage(CHINA);
    assert.deepEqual([img.height, img.width, img.channels], [427, 640, 3]);
    const mean = img.data.reduce((s, v) => s + v, 0) / img.data.length;
    assert.ok(Math.abs(mean - 143.7023) < 0.5, `mean ${mean}`); // PIL: 143.7023
  },
});
