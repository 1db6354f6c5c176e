import assert from "node:assert/strict";
import { join } from "node:path";
import { compose } from "../../data/transforms/image.ts";
import {
  largeScaleJitter,
  normalizeDense,
  randomCropSeg,
  randomFlipDense,
  resizeKeepRatio,
} from "../../data/dense_transforms/mod.ts";
import { cocoDetectionFolder, segmentationFolder } from "../../data/dense_folder.ts";
import { DenseLoader } from "../../data/dense_loader.ts";
import { generateScenes } from "../../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../../data/scenes/scene.ts";
import { rleArea } from "../../data/coco/rle.ts";
import { segmentationToRle } from "../../data/coco/json.ts";
import { writeLabelPng } from "../../data/label_png.ts";
import { memoryStats, TesseraError } from "../../mod.ts";

const live = () => memoryStats().cpu?.tensors ?? 0;
const TMP = await Deno.makeTempDir({ prefix: "tessera_dense_loader_" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
await generateScenes({ ...SCENES_VERSIONS.tiny, images: { train: 2, val: 5 } }, TMP);
const ROOT = join(TMP, "fmnist-scenes-tiny");

Deno.test("cocoDetectionFolder: boxes, contiguous labels and masks from the COCO file; crowd left out", async () => {
  const ds = await cocoDetectionFolder(ROOT, "val");
  assert.equal(ds.length, 5);
  assert.deepEqual(ds.catIds, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (let i = 0; i < ds.length; i++) {
    const { sample, imageId, path } = await ds.get(i);
    assert.equal(imageId, ds.imgIds[i]);
    assert.ok(path!.endsWith(ds.gt.images.get(imageId!)!.file_name));
    const anns = ds.gt.dataset.annotations.filter((a) => a.image_id === imageId && !a.iscrowd);
    assert.equal(sample.labels!.length, anns.length);
    anns.forEach((a, j) => {
      const [x, y, w, h] = a.bbox;
      assert.deepEqual([...sample.boxes!.subarray(4 * j, 4 * j + 4)], [x, y, x + w, y + h]);
      assert.equal(sample.labels![j], a.category_id - 1);
      const m = sample.masks![j]!;
      assert.equal(m.reduce((s, v) => s + v, 0), a.area);
      assert.equal(rleArea(segmentationToRle(a.segmentation!, 64, 64)), a.area);
    });
  }
  const boxOnly = await cocoDetectionFolder(ROOT, "val", { masks: false });
  assert.equal((await boxOnly.get(0)).sample.masks, undefined);
});

Deno.test("cocoDetectionFolder: a malformed folder fails naming the path", async () => {
  await assert.rejects(
    cocoDetectionFolder(ROOT, "test"),
    (e: Error) =>
      e instanceof TesseraError &&
      e.message.includes(join(ROOT, "annotations", "instances_test.json")),
  );
  const bad = join(TMP, "bad");
  await Deno.mkdir(join(bad, "annotations"), { recursive: true });
  await Deno.mkdir(join(bad, "images", "val"), { recursive: true });
  await Deno.copyFile(
    join(ROOT, "annotations", "instances_val.json"),
    join(bad, "annotations", "instances_val.json"),
  );
  await assert.rejects(
    cocoDetectionFolder(bad, "val"),
    /image file .*bad\/images\/val\/000001\.png does not exist/,
  );
  await Deno.writeTextFile(join(bad, "annotations", "instances_val.json"), "{");
  await assert.rejects(cocoDetectionFolder(bad, "val"), /instances_val\.json: not JSON/);
});

Deno.test("DenseLoader: LSJ batches of fixed size, consistent targets, deterministic, no leaks", async () => {
  const ds = await cocoDetectionFolder(ROOT, "val");
  const transform = compose(
    randomFlipDense(),
    largeScaleJitter([48, 48], { minScale: 0.5, maxScale: 1.5 }),
    (s) => normalizeDense(s, [0.5], [0.25]),
  );
  const before = live();
  const run = async (seed: number) => {
    const out: { images: number[]; targets: unknown; sizes: unknown; ids: number[] }[] = [];
    const loader = new DenseLoader(ds, { batchSize: 2, seed, transform });
    assert.equal(loader.length, 3);
    for await (const b of loader.epoch(1)) {
      assert.deepEqual(b.images.shape, [b.indices.length, 3, 64, 64]); // 48 padded to 64
      assert.deepEqual(b.imageSizes, b.targets!.map(() => [48, 48]));
      assert.equal(b.semantic, undefined);
      for (const t of b.targets!) {
        assert.equal(t.masks!.length, t.labels.length);
        for (let i = 0; i < t.labels.length; i++) {
          const [x1, y1, x2, y2] = t.boxes.subarray(4 * i, 4 * i + 4);
          assert.ok(x1! >= 0 && y1! >= 0 && x2! <= 48 && y2! <= 48 && x1! < x2! && y1! < y2!);
          t.masks![i]!.forEach((v, p) => {
            if (!v) return;
            const x = (p % 64) + 0.5, y = Math.floor(p / 64) + 0.5;
            assert.ok(x >= x1! && x <= x2! && y >= y1! && y <= y2!, "mask pixel outside its box");
          });
        }
      }
      const data = await b.images.data() as Float32Array;
      assert.equal(data[63], 0); // padding column
      out.push({
        images: [...data],
        targets: b.targets,
        sizes: b.imageSizes,
        ids: [...b.imageIds],
      });
      b.dispose();
    }
    return out;
  };
  const a = await run(7);
  assert.deepEqual(await run(7), a);
  assert.notDeepEqual((await run(8)).map((b) => b.images), a.map((b) => b.images));
  assert.deepEqual(a.flatMap((b) => b.ids).sort(), [1, 2, 3, 4, 5]);
  assert.equal(live(), before);
});

Deno.test("DenseLoader: images of different sizes are zero-padded to a multiple of sizeDivisor", async () => {
  const ds = await cocoDetectionFolder(ROOT, "val");
  // Item i resized to a shorter side of 20 or 40 (by index, so the sizes cannot depend on timing).
  const sized = {
    length: ds.length,
    get: async (i: number) => {
      const it = await ds.get(i);
      return { ...it, sample: resizeKeepRatio(it.sample, i % 2 === 0 ? 20 : 40) };
    },
  };
  const loader = new DenseLoader(sized, { batchSize: 2, seed: 0, shuffle: false, sizeDivisor: 16 });
  const it = loader.epoch(0);
  const { value: b } = await it.next();
  assert.deepEqual(b!.images.shape, [2, 3, 48, 48]);
  assert.deepEqual(b!.imageSizes, [[20, 20], [40, 40]]);
  const d = await b!.images.data() as Float32Array;
  assert.equal(d[20], 0); // row 0, column 20 of image 0 is padding
  assert.ok(b!.targets![0]!.masks!.every((m) => m.length === 48 * 48));
  b!.dispose();
  await it.return();
  assert.throws(
    () => new DenseLoader(ds, { batchSize: 0, seed: 0 }),
    /batchSize must be an integer >= 1/,
  );
});

Deno.test("segmentationFolder + DenseLoader: label maps reduced, cropped and padded with 255", async () => {
  const ds = await segmentationFolder(join(ROOT, "images", "val"), join(ROOT, "semantic", "val"), {
    reduceZeroLabel: true,
  });
  assert.equal(ds.length, 5);
  const loader = new DenseLoader(ds, {
    batchSize: 5,
    seed: 3,
    transform: compose(randomCropSeg([40, 40]), randomFlipDense()),
  });
  for await (const b of loader.epoch(0)) {
    assert.deepEqual(b.semantic!.shape, [5, 64, 64]);
    assert.equal(b.targets, undefined);
    const sem = await b.semantic!.data() as Int32Array;
    assert.equal(sem[41], 255); // padding
    assert.ok(sem.every((v) => (v >= 0 && v <= 10) || v === 255));
    assert.ok(sem.subarray(0, 40).some((v) => v !== 255));
    b.dispose();
  }
  // A missing label map names the path.
  const imgs = join(TMP, "seg_imgs"), labs = join(TMP, "seg_labs");
  await Deno.mkdir(imgs);
  await Deno.mkdir(labs);
  await Deno.copyFile(join(ROOT, "images", "val", "000001.png"), join(imgs, "a.png"));
  await Deno.copyFile(join(ROOT, "images", "val", "000002.png"), join(imgs, "b.png"));
  await writeLabelPng(join(labs, "a.png"), { height: 2, width: 2, data: new Uint8Array(4) });
  await assert.rejects(segmentationFolder(imgs, labs), /seg_labs\/b\.png does not exist/);
  await Deno.remove(join(imgs, "b.png"));
  const small = await segmentationFolder(imgs, labs);
  await assert.rejects(Promise.resolve(small.get(0)), /a\.png is 2×2, its image .* 64×64/);
});
