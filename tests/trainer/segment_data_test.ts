/**
 * `checkedSplit` (trainer/segment_data.ts), the folder side of `train.ts segment`: an ADE-style
 * folder (`images/{training,validation}` + `annotations/…`) reads the same items as the
 * FMNIST-Scenes layout it was copied from; the class-count check sits exactly at the boundary
 * (raw value = numClasses passes, numClasses + 1 fails, 0 becomes ignore); a folder of neither
 * layout is named.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkedSplit } from "../../trainer/segment_data.ts";
import { readLabelPng, writeLabelPng } from "../../data/label_png.ts";
import { SEG_IGNORE } from "../../data/dense_transforms/sample.ts";
import { withScenes } from "../cli/_dense_helpers.ts";

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

Deno.test("checkedSplit: an ADE-style folder reads the same items as the FMNIST-Scenes layout", async () => {
  await withScenes(async (data, dir) => {
    const ade = join(dir, "ade");
    for (const [ours, theirs] of [["train", "training"], ["val", "validation"]] as const) {
      await copyDir(join(data, "images", ours), join(ade, "images", theirs));
      await copyDir(join(data, "semantic", ours), join(ade, "annotations", theirs));
    }
    for (const split of ["train", "val"] as const) {
      const [a, b] = [await checkedSplit(data, split, 11), await checkedSplit(ade, split, 11)];
      assert.equal(b.length, a.length);
      assert.ok(a.length > 0);
      for (let i = 0; i < a.length; i++) {
        const [x, y] = [await a.get(i), await b.get(i)];
        assert.deepEqual(y.sample.semantic, x.sample.semantic, `${split} ${i}`);
        assert.deepEqual(y.sample.image.data, x.sample.image.data, `${split} ${i}`);
      }
    }
  }, { train: 2, val: 2 });
});

Deno.test("checkedSplit: raw label numClasses passes, numClasses + 1 is named, 0 is ignored", async () => {
  await withScenes(async (data) => {
    const f = join(data, "semantic", "val", "000001.png");
    const m = await readLabelPng(f);
    const put = async (values: number[]) => {
      const d = Uint8Array.from(m.data);
      values.forEach((v, q) => (d[q] = v));
      await writeLabelPng(f, { ...m, data: d });
    };
    await put([11, 0, 255]);
    const sem = (await (await checkedSplit(data, "val", 11)).get(0)).sample.semantic!;
    assert.deepEqual([...sem.slice(0, 3)], [10, SEG_IGNORE, SEG_IGNORE]);
    await put([1, 12]);
    await assert.rejects(
      async () => (await checkedSplit(data, "val", 11)).get(0),
      /000001\.png has the value 12 \(class 11 after reduce_zero_label\) at pixel 1, outside the 11 classes/,
    );
  }, { train: 1, val: 1 });
});

Deno.test("checkedSplit: a folder with neither semantic/ nor annotations/ is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "images"));
    await assert.rejects(
      () => checkedSplit(dir, "train", 11),
      (e: Error) =>
        e.message.includes(dir) && /neither semantic\/ .*nor annotations\//.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
