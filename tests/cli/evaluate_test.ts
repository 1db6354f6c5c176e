import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";
import { writeLabelPng } from "../../data/label_png.ts";

interface Case {
  name: string;
  iouType: "bbox" | "segm";
  gt: unknown;
  dt: unknown;
  stats: number[];
  lines: string[];
}
const FIXTURE: { cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/coco_eval.json", import.meta.url)),
);

async function withTemp(f: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tessera_evaluate_cli_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("train.ts evaluate: usage errors exit 2 naming the flag or the path", async () => {
  await withTemp(async (dir) => {
    const gt = `${dir}/gt.json`;
    await Deno.writeTextFile(gt, "{}");
    for (
      const [argv, re] of [
        [["evaluate"], /expected "coco" or "seg" first/],
        [["evaluate", "boxes"], /expected "coco" or "seg" first, got "boxes"/],
        [["evaluate", "coco", "--results", "r.json"], /--gt FILE is required/],
        [["evaluate", "coco", "--gt", gt], /--results FILE is required/],
        [
          ["evaluate", "coco", "--gt", gt, "--results", `${dir}/nope.json`],
          /--results: .*nope\.json does not exist/,
        ],
        [
          ["evaluate", "coco", "--gt", gt, "--results", gt, "--iou-type", "mask"],
          /--iou-type must be one of bbox, segm, got "mask"/,
        ],
        [["evaluate", "coco", "--gt", gt, "--pred", dir], /--pred does not apply to evaluate coco/],
        [["evaluate", "coco", "--frobnicate"], /--frobnicate/],
        [["evaluate", "seg", "--gt", dir], /--pred DIR is required/],
        [["evaluate", "seg", "--gt", `${dir}/none`, "--pred", dir], /--gt: .*none does not exist/],
        [
          ["evaluate", "seg", "--gt", dir, "--pred", dir, "--num-classes", "x"],
          /--num-classes must be an integer in \[1, 255\], got "x"/,
        ],
      ] as const
    ) {
      const io = captureIO();
      assert.equal(await main([...argv], io), 2, argv.join(" "));
      assert.match(io.stderr, re, argv.join(" "));
    }
  });
  const io = captureIO();
  assert.equal(await main(["evaluate", "--help"], io), 0);
  assert.match(io.stdout.join("\n"), /--iou-type bbox\|segm/);
});

Deno.test("train.ts evaluate coco prints pycocotools' 12 lines and writes the stats", async () => {
  const picks = ["C3", "C10crowd", "random-segm-1", "random-bbox-0"];
  const cases = FIXTURE.cases.filter((c) => picks.includes(c.name));
  assert.equal(cases.length, picks.length);
  for (const c of cases) {
    await withTemp(async (dir) => {
      await Deno.writeTextFile(`${dir}/gt.json`, JSON.stringify(c.gt));
      await Deno.writeTextFile(`${dir}/dt.json`, JSON.stringify(c.dt));
      const io = captureIO();
      const argv = ["evaluate", "coco", "--gt", `${dir}/gt.json`, "--results", `${dir}/dt.json`];
      argv.push("--iou-type", c.iouType, "--out", `${dir}/out.json`);
      assert.equal(await main(argv, io), 0, io.stderr);
      assert.deepEqual(io.stdout.slice(0, 12), c.lines, c.name);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
      assert.deepEqual(JSON.parse(io.stdout[12]!), json);
      assert.equal(json.iouType, c.iouType);
      for (let i = 0; i < 12; i++) assert.ok(Math.abs(json.stats[i] - c.stats[i]!) <= 1e-9, c.name);
    });
  }
});

Deno.test("train.ts evaluate coco: a bad results file fails naming it", async () => {
  const c = FIXTURE.cases.find((c) => c.name === "C1")!;
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/gt.json`, JSON.stringify(c.gt));
    await Deno.writeTextFile(
      `${dir}/dt.json`,
      JSON.stringify([{ image_id: 99, category_id: 1, bbox: [0, 0, 1, 1], score: 1 }]),
    );
    const io = captureIO();
    assert.equal(
      await main(["evaluate", "coco", "--gt", `${dir}/gt.json`, "--results", `${dir}/dt.json`], io),
      1,
    );
    assert.match(io.stderr, /dt\.json: result 0: image_id 99/);
  });
});

Deno.test("train.ts evaluate seg: mmseg's dataset-level mIoU on the spec's golden example", async () => {
  await withTemp(async (dir) => {
    await Deno.mkdir(`${dir}/gt`);
    await Deno.mkdir(`${dir}/pred`);
    const map = (v: number[]) => ({ height: 2, width: 4, data: Uint8Array.from(v) });
    await writeLabelPng(`${dir}/gt/1.png`, map([0, 1, 1, 1, 2, 2, 2, 2]));
    await writeLabelPng(`${dir}/pred/1.png`, map([2, 0, 0, 1, 1, 1, 1, 1]));
    await writeLabelPng(`${dir}/gt/2.png`, map([3, 3, 3, 3, 3, 3, 0, 0]));
    await writeLabelPng(`${dir}/pred/2.png`, map(new Array(8).fill(2)));
    const io = captureIO();
    const argv = ["evaluate", "seg", "--gt", `${dir}/gt`, "--pred", `${dir}/pred`];
    assert.equal(
      await main([...argv, "--num-classes", "3", "--reduce-zero-label"], io),
      0,
      io.stderr,
    );
    const r = JSON.parse(io.stdout[0]!);
    assert.equal(r.images, 2);
    assert.ok(Math.abs(r.mIoU - 0.8222222222) < 1e-9);
    assert.ok(Math.abs(r.aAcc - 12 / 13) < 1e-12);
    // Without the reduction the ground truth has 4 values and class 3 is out of range.
    const io2 = captureIO();
    assert.equal(await main([...argv, "--num-classes", "4", "--out", `${dir}/o.json`], io2), 0);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/o.json`)).numClasses, 4);
  });
});

Deno.test("train.ts evaluate seg --compare: paired bootstrap of the mIoU difference over the images", async () => {
  await withTemp(async (dir) => {
    for (const d of ["gt", "a", "b"]) await Deno.mkdir(`${dir}/${d}`);
    const map = (v: number[]) => ({ height: 1, width: 4, data: Uint8Array.from(v) });
    // 30 images, classes 0/1 (gt stored +1 for reduce_zero_label): A right on all 4 pixels of
    // every image, B right on 2 of 4; so mIoU(A) = 1 and A beats B on every resample.
    for (let i = 0; i < 30; i++) {
      const n = String(i).padStart(2, "0");
      await writeLabelPng(`${dir}/gt/${n}.png`, map([1, 1, 2, 2]));
      await writeLabelPng(`${dir}/a/${n}.png`, map([0, 0, 1, 1]));
      await writeLabelPng(`${dir}/b/${n}.png`, map([0, 1, 0, 1]));
    }
    const io = captureIO();
    const argv = ["evaluate", "seg", "--gt", `${dir}/gt`, "--pred", `${dir}/a`, "--compare"];
    const flags = ["--num-classes", "2", "--reduce-zero-label", "--resamples", "500"];
    assert.equal(await main([...argv, `${dir}/b`, ...flags], io), 0, io.stderr);
    const r = JSON.parse(io.stdout[0]!);
    assert.equal(r.mIoU, 1);
    assert.ok(Math.abs(r.compare.mIoU - 1 / 3) < 1e-12, `${r.compare.mIoU}`); // IoU 1/3 each class
    assert.ok(Math.abs(r.compare.diff - 2 / 3) < 1e-12);
    assert.deepEqual([r.compare.resamples, r.compare.p < 0.01], [500, true]);
    // The same predictions twice: no difference, p = 1.
    const same = captureIO();
    assert.equal(await main([...argv, `${dir}/a`, ...flags], same), 0, same.stderr);
    const s = JSON.parse(same.stdout[0]!).compare;
    assert.deepEqual([s.diff, s.ci, s.p], [0, [0, 0], 1]);
    const missing = captureIO();
    assert.equal(await main([...argv, `${dir}/nope`, ...flags], missing), 2);
    assert.match(missing.stderr, /--compare: .*nope does not exist/);
  });
});

Deno.test("train.ts evaluate coco --compare: paired bootstrap of the AP difference, AP recomputed per resample", async () => {
  await withTemp(async (dir) => {
    const n = 40;
    const images = Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      width: 64,
      height: 64,
      file_name: `${i}.png`,
    }));
    const box = [8, 8, 20, 20];
    const annotations = images.map((im) => ({
      id: im.id,
      image_id: im.id,
      category_id: 1,
      bbox: box,
      area: 400,
      iscrowd: 0,
    }));
    const gt = { images, annotations, categories: [{ id: 1, name: "x" }] };
    // A finds every object; B finds the even images' only (and a miss elsewhere).
    const a = images.map((im) => ({ image_id: im.id, category_id: 1, bbox: box, score: 0.9 }));
    const b = images.map((im) => ({
      image_id: im.id,
      category_id: 1,
      bbox: im.id % 2 ? [40, 40, 20, 20] : box,
      score: 0.9,
    }));
    for (const [f, v] of [["gt", gt], ["a", a], ["b", b]] as const) {
      await Deno.writeTextFile(`${dir}/${f}.json`, JSON.stringify(v));
    }
    const argv = ["evaluate", "coco", "--gt", `${dir}/gt.json`, "--results", `${dir}/a.json`];
    const io = captureIO();
    const flags = ["--compare", `${dir}/b.json`, "--resamples", "300"];
    assert.equal(await main([...argv, ...flags], io), 0, io.stderr);
    const r = JSON.parse(io.stdout[12]!);
    assert.ok(r.stats[0] > 0.99 && r.compare.stats[0] < 0.6, JSON.stringify(r));
    assert.ok(Math.abs(r.compare.diff - (r.stats[0] - r.compare.stats[0])) < 1e-12);
    assert.ok(r.compare.ci[0] > 0 && r.compare.p < 0.01, JSON.stringify(r.compare));
    const same = captureIO();
    const sameFlags = ["--compare", `${dir}/a.json`, "--resamples", "300"];
    assert.equal(await main([...argv, ...sameFlags], same), 0, same.stderr);
    const s = JSON.parse(same.stdout[12]!).compare;
    assert.deepEqual([s.diff, s.ci, s.p], [0, [0, 0], 1]);
  });
});
