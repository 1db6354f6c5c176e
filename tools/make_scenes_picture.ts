/**
 * Draws docs/fmnist_scenes.png: four FMNIST-Scenes validation images (version `small` when the
 * full Fashion-MNIST is installed, else `tiny`), one per column, shown ×2 in three rows:
 * the image with its COCO boxes (colour = category, crowd regions dashed), the instance masks
 * decoded from the RLEs (crowd regions striped), and the semantic label map (black = the
 * unlabelled ring, grey = background, colour = class).
 *
 * Usage: `deno run -A tools/make_scenes_picture.ts [--out docs/fmnist_scenes.png] [--version small]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { rleDecode } from "../data/coco/rle.ts";
import { rleFromJson } from "../data/coco/json.ts";
import { loadSharp } from "../data/image_folder.ts";
import { CATEGORY_PALETTE } from "../data/detect_draw.ts";
import { sceneAnnotations, scenesPool } from "../data/scenes/generate.ts";
import { renderScene, SCENES_VERSIONS } from "../data/scenes/scene.ts";

const PALETTE = CATEGORY_PALETTE;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "docs/fmnist_scenes.png" },
    version: { type: "string" },
  },
});
let version = SCENES_VERSIONS[(values.version ?? "small") as "tiny" | "small"];
let pool;
try {
  pool = await scenesPool(version, "val");
} catch {
  version = SCENES_VERSIONS.tiny;
  pool = await scenesPool(version, "val");
}
const S = version.canvas, Z = 2, T = S * Z, GAP = 6, COLS = 4, ROWS = 3;
const W = COLS * T + (COLS + 1) * GAP, H = ROWS * T + (ROWS + 1) * GAP;
const canvas = new Uint8Array(W * H * 3).fill(255);
const put = (col: number, row: number, x: number, y: number, c: readonly number[]) => {
  if (x < 0 || y < 0 || x >= T || y >= T) return;
  const p = ((GAP + row * (T + GAP) + y) * W + GAP + col * (T + GAP) + x) * 3;
  canvas[p] = c[0]!;
  canvas[p + 1] = c[1]!;
  canvas[p + 2] = c[2]!;
};
// Pick images with several instances, one of them with a crowd region if there is one.
const picks: number[] = [];
for (let i = 1; picks.length < COLS && i <= version.images.val; i++) {
  const sc = renderScene(version, "val", i, pool);
  const wantCrowd = picks.length === 0;
  if (sc.instances.length >= 3 && (!wantCrowd || sc.instances[0]!.crowd)) picks.push(i);
}
for (let i = 1; picks.length < COLS; i++) if (!picks.includes(i)) picks.push(i);
for (const [col, idx] of picks.entries()) {
  const sc = renderScene(version, "val", idx, pool);
  const anns = sceneAnnotations(sc, idx, 1);
  for (let y = 0; y < T; y++) {
    for (let x = 0; x < T; x++) {
      const p = Math.floor(y / Z) * S + Math.floor(x / Z);
      put(col, 0, x, y, [sc.rgb[p * 3]!, sc.rgb[p * 3 + 1]!, sc.rgb[p * 3 + 2]!]);
      const g = Math.floor((sc.rgb[p * 3]! + sc.rgb[p * 3 + 1]! + sc.rgb[p * 3 + 2]!) / 6) + 40;
      put(col, 1, x, y, [g, g, g]);
      const s = sc.semantic[p]!;
      put(col, 2, x, y, s === 0 ? [0, 0, 0] : s === 1 ? [200, 200, 200] : PALETTE[s - 2]!);
    }
  }
  for (const [k, a] of anns.entries()) {
    const c = PALETTE[a.category_id - 1]!;
    const m = rleDecode(rleFromJson(a.segmentation as { size: [number, number]; counts: string }));
    for (let y = 0; y < T; y++) {
      for (let x = 0; x < T; x++) {
        if (!m[Math.floor(y / Z) * S + Math.floor(x / Z)]) continue;
        if (a.iscrowd && (x + y) % 6 < 3) continue; // crowd: striped
        put(col, 1, x, y, PALETTE[(k * 3 + a.category_id) % 10]!);
      }
    }
    const [bx, by, bw, bh] = a.bbox.map((v) => v * Z) as [number, number, number, number];
    for (let t = 0; t < 2; t++) {
      for (let x = bx; x < bx + bw; x++) {
        if (a.iscrowd && x % 6 < 3) continue;
        put(col, 0, x, by + t, c);
        put(col, 0, x, by + bh - 1 - t, c);
      }
      for (let y = by; y < by + bh; y++) {
        if (a.iscrowd && y % 6 < 3) continue;
        put(col, 0, bx + t, y, c);
        put(col, 0, bx + bw - 1 - t, y, c);
      }
    }
  }
}
const sharp = await loadSharp();
await sharp(canvas, { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 9 })
  .toFile(values.out!);
console.log(`${values.out}: ${version.name} val images ${picks.join(", ")} (${W}×${H})`);
