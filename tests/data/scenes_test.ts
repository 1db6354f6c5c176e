/**
 * FMNIST-Scenes (data/scenes): the consistency checks of spec data-eval.md §6.4 on the tiny
 * version written to disk — pixel hashes (committed, and of the decoded PNGs), RLE ↔ visible
 * mask, bbox/area, disjoint masks, semantic labels and the ring, GT-as-results AP = 1 for
 * boxes and masks, GT-as-prediction mIoU = 100, shrunk boxes AP = 0.5, size of tiny val —
 * and COCOeval on the tiny val set against pycocotools (tests/fixtures/coco_eval.json).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { decodeImage } from "../../data/image_folder.ts";
import { readLabelPng } from "../../data/label_png.ts";
import {
  type CocoDataset,
  parseCocoGt,
  parseCocoResults,
  rleFromJson,
} from "../../data/coco/json.ts";
import { rleArea, rleDecode, rleToBbox } from "../../data/coco/rle.ts";
import { evaluateCoco } from "../../data/eval/coco_eval.ts";
import { reduceZeroLabel, segAreas, segMetrics, sumSegAreas } from "../../data/eval/seg_metrics.ts";
import { evaluateSegFolders } from "../../data/eval/seg_folders.ts";
import { generateScenes, scenesPool } from "../../data/scenes/generate.ts";
import { renderScene, SCENES_VERSIONS } from "../../data/scenes/scene.ts";

/** The tiny version's pixel hashes; a change to the generator must update them knowingly. */
const TINY = {
  train: {
    images: 160,
    annotations: 332,
    crowd: 11,
    sha256Images: "cb555206e27120c912eba0b480880a34e0c70f5ef5181b0bd7f6c7812e1a3172",
    sha256Semantic: "4a11f850d5cb417edbc77c29947a13308a4566597dda67430187b84d11efac3f",
  },
  val: {
    images: 40,
    annotations: 83,
    crowd: 5,
    sha256Images: "1b3e53cbe23e33962fba046669edf6b3eb7147f9098dada2f970c5f95334ea1b",
    sha256Semantic: "a6e3687483181dae86b177e5f1b5bf3e0cce26421dc499884c887f280a34b565",
  },
};

const out = await Deno.makeTempDir({ prefix: "tessera_scenes_" });
const meta = await generateScenes(SCENES_VERSIONS.tiny, out);
const root = join(out, "fmnist-scenes-tiny");
const readGt = async (split: string) =>
  JSON.parse(
    await Deno.readTextFile(join(root, "annotations", `instances_${split}.json`)),
  ) as CocoDataset;

Deno.test({
  name: "scenes: tiny hashes as committed; decoded PNGs hash to meta.json; val < 1 MB",
  sanitizeResources: false,
  fn: async () => {
    assert.deepEqual(meta.splits, TINY);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(root, "meta.json"))).splits, TINY);
    let valBytes = (await Deno.stat(join(root, "annotations", "instances_val.json"))).size;
    for (const split of ["train", "val"] as const) {
      const hi = createHash("sha256"), hs = createHash("sha256");
      for (let i = 1; i <= TINY[split].images; i++) {
        const name = `${String(i).padStart(6, "0")}.png`;
        const img = await decodeImage(join(root, "images", split, name));
        const sem = await readLabelPng(join(root, "semantic", split, name));
        hi.update(img.data);
        hs.update(sem.data);
        if (split === "val") {
          valBytes += (await Deno.stat(join(root, "images", split, name))).size +
            (await Deno.stat(join(root, "semantic", split, name))).size;
        }
      }
      assert.equal(hi.digest("hex"), TINY[split].sha256Images, split);
      assert.equal(hs.digest("hex"), TINY[split].sha256Semantic, split);
    }
    assert.ok(valBytes < 1_000_000, `tiny val is ${valBytes} bytes`);
  },
});

Deno.test("scenes: RLE = visible mask, bbox/area from the RLE, disjoint, semantic consistent", async () => {
  const pool = await scenesPool(SCENES_VERSIONS.tiny, "val");
  const gt = await readGt("val");
  const S = 64;
  let ringPixels = 0;
  // Rendered in reverse order, alone: generation does not depend on order.
  for (let i = TINY.val.images; i >= 1; i--) {
    const scene = renderScene(SCENES_VERSIONS.tiny, "val", i, pool);
    const anns = gt.annotations.filter((a) => a.image_id === i);
    assert.equal(anns.length, scene.instances.length);
    const cover = new Int16Array(S * S).fill(-1);
    for (const [k, a] of anns.entries()) {
      const rle = rleFromJson(a.segmentation as { size: [number, number]; counts: string });
      const m = rleDecode(rle);
      for (let p = 0; p < S * S; p++) {
        assert.equal(m[p], scene.owner[p] === k ? 1 : 0);
        if (m[p]) {
          assert.equal(cover[p], -1, "masks overlap"); // disjoint (crowd included)
          cover[p] = k;
        }
      }
      assert.deepEqual(a.bbox, rleToBbox(rle));
      assert.equal(a.area, rleArea(rle));
      assert.ok(a.area >= 24);
      assert.equal(a.iscrowd, scene.instances[k]!.crowd ? 1 : 0);
      assert.equal(a.category_id, scene.instances[k]!.label + 1);
    }
    const sem =
      (await readLabelPng(join(root, "semantic", "val", `${String(i).padStart(6, "0")}.png`))).data;
    assert.deepEqual(sem, scene.semantic);
    for (let p = 0; p < S * S; p++) {
      const k = cover[p]!, x = p % S, y = (p - x) / S;
      if (k >= 0) {
        assert.equal(sem[p], anns[k]!.category_id + 1);
        continue;
      }
      const nb = [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]
        .some(([u, v]) => u! >= 0 && u! < S && v! >= 0 && v! < S && cover[v! * S + u!]! >= 0);
      assert.equal(sem[p], nb ? 0 : 1);
      if (nb) ringPixels++;
    }
  }
  const frac = ringPixels / (TINY.val.images * S * S);
  assert.ok(frac > 0.02 && frac < 0.12, `ring fraction ${frac}`);
});

Deno.test("scenes: GT as results scores AP 1 (box, mask); shrunk boxes 0.5; mIoU 100", async () => {
  for (const split of ["train", "val"] as const) {
    const raw = await readGt(split);
    const gt = parseCocoGt(raw);
    const normal = raw.annotations.filter((a) => a.iscrowd === 0);
    assert.ok(raw.annotations.some((a) => a.iscrowd === 1), "crowd regions present");
    const res = normal.map((a) => ({
      image_id: a.image_id,
      category_id: a.category_id,
      bbox: a.bbox,
      segmentation: a.segmentation as { size: [number, number]; counts: string },
      score: 1,
    }));
    for (const t of ["bbox", "segm"] as const) {
      const s = evaluateCoco(gt, parseCocoResults(res, gt), t).stats;
      assert.ok(Math.abs(s[0]! - 1) < 1e-12 && Math.abs(s[8]! - 1) < 1e-12, `${split} ${t}: ${s}`);
    }
    const shrunk = normal.map((a) => ({
      image_id: a.image_id,
      category_id: a.category_id,
      bbox: [a.bbox[0], a.bbox[1], a.bbox[2] * 0.85, a.bbox[3] * 0.85], // IoU 0.7225
      score: 1,
    }));
    const s = evaluateCoco(gt, parseCocoResults(shrunk, gt)).stats;
    assert.ok(Math.abs(s[0]! - 0.5) < 1e-12, `${split} shrunk AP ${s[0]}`);
    const semDir = join(root, "semantic", split);
    // The label PNGs as predictions: ADE benchmark files hold class + 1 (offset 1).
    const m = await evaluateSegFolders(semDir, semDir, { numClasses: 11, predictionsOffset: 1 });
    assert.equal(m.images, raw.images.length);
    assert.deepEqual([m.mIoU, m.aAcc, m.mAcc], [1, 1, 1]);
    // All-background prediction: IoU(bg) = background share, every class 0 (spec §6.6).
    const perImage = [];
    for (const im of raw.images) {
      const lab = reduceZeroLabel((await readLabelPng(join(semDir, im.file_name))).data);
      perImage.push(segAreas(new Uint8Array(lab.length), lab, 11));
    }
    const bg = segMetrics(sumSegAreas(perImage));
    assert.ok(bg.iou[0]! > 0.7 && bg.iou[0]! < 0.95, `IoU(bg) ${bg.iou[0]}`);
    assert.equal(bg.mIoU, bg.iou[0]! / 11);
  }
});

Deno.test("scenes: COCOeval on tiny val equals pycocotools (perfect, jittered, random)", async () => {
  const fix = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/coco_eval.json", import.meta.url)),
  );
  const cases = fix.cases.filter((c: { gtFile?: string }) => c.gtFile === "instances_val.json");
  assert.equal(cases.length, 5);
  const bytes = await Deno.readFile(join(root, "annotations", "instances_val.json"));
  const gt = parseCocoGt(JSON.parse(new TextDecoder().decode(bytes)));
  for (const c of cases) {
    assert.equal(createHash("sha256").update(bytes).digest("hex"), c.gtSha256, "same tiny val GT");
    const s = evaluateCoco(gt, parseCocoResults(c.dt, gt), c.iouType).stats;
    s.forEach((v, i) =>
      assert.ok(Math.abs(v - c.stats[i]) <= 1e-9, `${c.name} ${i}: ${v} vs ${c.stats[i]}`)
    );
  }
});

Deno.test("scenes: small needs the full Fashion-MNIST; a clear error from a short pool", async () => {
  await assert.rejects(
    scenesPool(
      SCENES_VERSIONS.small,
      "val",
      new URL("../../data/sample/fashion-mnist/", import.meta.url).pathname,
    ),
    /version small draws val items from 10000 Fashion-MNIST items but .* holds 1000; install the full set/,
  );
});

globalThis.addEventListener("unload", () => Deno.removeSync(out, { recursive: true }));
