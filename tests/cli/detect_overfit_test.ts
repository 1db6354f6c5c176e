/**
 * Issue 13's overfit check of `train.ts detect`: 32 tiny FMNIST-Scenes images (64² canvas, 1–3
 * garments each, 10 classes) are both the training and the val split, and the whole command
 * (loader, jitted Mask R-CNN step, COCO evaluation) must memorise them to box AP > 0.5. A run
 * that cannot learn (a broken target, loss or gradient) stays near 0. Patch 16 (a 4×4 token
 * grid, FPN levels 16² … 2²) learns as fast as patch 8 here at a quarter of the conv work, which
 * keeps the test near half a minute on one core (AP ≈ 0.66 at step 250; ≈ 0.60 at step 200).
 */
import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { detectCommand } from "../../cli/detect.ts";
import { withScenes } from "./_dense_helpers.ts";

Deno.test("detect overfits 32 tiny FMNIST-Scenes images: box AP on them passes 0.5 (250 steps)", async () => {
  await withScenes(async (data, dir) => {
    // val := train, so the evaluation scores the 32 training images.
    await Deno.remove(`${data}/images/val`, { recursive: true });
    await Deno.symlink(`${data}/images/train`, `${data}/images/val`);
    await Deno.copyFile(
      `${data}/annotations/instances_train.json`,
      `${data}/annotations/instances_val.json`,
    );
    const io = captureIO();
    const argv = [
      ...["--data", data, "--dim", "32", "--depth", "2", "--heads", "2", "--patch", "16"],
      ...["--batch", "4", "--steps", "250", "--lr", "2e-3", "--warmup", "10", "--flip", "0"],
      ...["--eval-every", "250", "--ckpt-every", "250", "--threads", "1"],
      ...["--out", `${dir}/run`, "--backend", "cpu"],
    ];
    assert.equal(await detectCommand(argv, io), 0, io.stderr);
    const final = JSON.parse(io.stdout.at(-1)!);
    assert.deepEqual([final.train_images, final.val_images], [32, 32]);
    const [boxAP] = final.bbox as number[], [maskAP] = final.segm as number[];
    assert.ok(boxAP! > 0.5, `box AP on the training images ${boxAP}`);
    assert.ok(maskAP! > 0.25, `mask AP on the training images ${maskAP}`);
  }, { train: 32, val: 1 });
});
