/**
 * One FMNIST-Scenes image (spec data-eval.md §6.3): background and distractors, an optional
 * crowd region, then Fashion-MNIST items placed so that every earlier instance keeps at least
 * max(24 px, half its mask) visible; the result is the RGB canvas, the map of which instance
 * owns each pixel, and the ADE-style semantic map derived from it. Everything depends only on
 * the version, the split, the index and the item pool.
 *
 * @module
 */

import { hash32, type SceneRng, sceneRng } from "./prng.ts";
import { chooseTint, paintBackground, resizeItem, shade } from "./render.ts";

/** The parameters of a version (spec §6.5). */
export interface ScenesVersion {
  /** `tiny` or `small` (part of every image's seed). */
  readonly name: string;
  /** Canvas side S. */
  readonly canvas: number;
  /** Items per image, inclusive range. */
  readonly items: readonly [number, number];
  /** Item side s, inclusive range. */
  readonly side: readonly [number, number];
  /** Images per split. */
  readonly images: { readonly train: number; readonly val: number };
  /** Fashion-MNIST items drawn from: the first `train` of the 60k split, `val` of t10k. */
  readonly pool: { readonly train: number; readonly val: number };
}

/** The two versions. tiny's pool is the bundled sample's, so it is the same everywhere. */
export const SCENES_VERSIONS: Readonly<Record<"tiny" | "small", ScenesVersion>> = {
  tiny: {
    name: "tiny",
    canvas: 64,
    items: [1, 3],
    side: [16, 40],
    images: { train: 160, val: 40 },
    pool: { train: 4000, val: 1000 },
  },
  small: {
    name: "small",
    canvas: 128,
    items: [1, 7],
    side: [20, 80],
    images: { train: 8000, val: 1000 },
    pool: { train: 60000, val: 10000 },
  },
};

/** Fixed rendering constants (recorded in meta.json). */
export const SCENE_RULES = {
  maskThreshold: 26,
  minMaskPx: 24,
  placementTries: 30,
  crowdChance: [1, 10],
  crowdItems: [3, 5],
  crowdSide: [8, 12],
  crowdWindow: 24,
} as const;

/** Fashion-MNIST items to draw from: `count` 28×28 images and their labels. */
export interface ItemPool {
  /** `count·784` bytes. */
  readonly images: Uint8Array;
  /** `count` labels 0..9. */
  readonly labels: Uint8Array;
  /** Number of items. */
  readonly count: number;
}

/** One instance of a scene (a placed item, or the crowd region). */
export interface SceneInstance {
  /** Fashion-MNIST label 0..9. */
  readonly label: number;
  /** The crowd region (one annotation, iscrowd 1). */
  readonly crowd: boolean;
  /** Pool indices of the item(s) drawn. */
  readonly srcIndex: readonly number[];
  /** Item side(s). */
  readonly scale: readonly number[];
}

/** A rendered scene. */
export interface Scene {
  /** Canvas side S. */
  readonly size: number;
  /** `S·S·3` RGB bytes. */
  readonly rgb: Uint8Array;
  /** Instance index owning each pixel, −1 for background. */
  readonly owner: Int16Array;
  /** ADE-style labels: 0 unlabelled ring, 1 background, 2..11 = Fashion-MNIST label + 2. */
  readonly semantic: Uint8Array;
  /** Instances in drawing order (the crowd region, when present, is first). */
  readonly instances: readonly SceneInstance[];
}

interface Drawn {
  readonly pos: Int32Array; // canvas pixel indices of the mask
  readonly val: Uint8Array; // item intensity at each
}

function drawItem(
  pool: ItemPool,
  src: number,
  s: number,
  flip: boolean,
  x: number,
  y: number,
  S: number,
): Drawn {
  const r = resizeItem(pool.images.subarray(src * 784, src * 784 + 784), s, flip);
  const pos: number[] = [], val: number[] = [];
  for (let j = 0; j < s; j++) {
    for (let i = 0; i < s; i++) {
      const v = r[j * s + i]!;
      if (v >= SCENE_RULES.maskThreshold) {
        pos.push((y + j) * S + x + i);
        val.push(v);
      }
    }
  }
  return { pos: Int32Array.from(pos), val: Uint8Array.from(val) };
}

function paint(rgb: Uint8Array, d: Drawn, tint: readonly number[]): void {
  for (let k = 0; k < d.pos.length; k++) {
    const p = d.pos[k]! * 3, v = d.val[k]!;
    for (let c = 0; c < 3; c++) rgb[p + c] = shade(tint[c]!, v);
  }
}

/** Pool indices by label, for the crowd region's same-class items. */
function byLabel(pool: ItemPool): number[][] {
  const out: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < pool.count; i++) out[pool.labels[i]!]!.push(i);
  return out;
}
const labelCache = new WeakMap<ItemPool, number[][]>();

/**
 * Renders image `index` (1-based) of a split.
 *
 * @param version the version's parameters
 * @param split `"train"` or `"val"`
 * @param index 1-based image index
 * @param pool the split's item pool (train items for train, t10k items for val)
 * @returns the scene
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderScene, SCENES_VERSIONS } from "./scene.ts";
 * const pool = { images: new Uint8Array(784 * 2).fill(255), labels: Uint8Array.of(3, 5), count: 2 };
 * const a = renderScene(SCENES_VERSIONS.tiny, "train", 1, pool);
 * assert.deepEqual(a.rgb, renderScene(SCENES_VERSIONS.tiny, "train", 1, pool).rgb);
 * assert.ok(a.instances.length >= 1);
 * ```
 */
export function renderScene(
  version: ScenesVersion,
  split: "train" | "val",
  index: number,
  pool: ItemPool,
): Scene {
  const rng: SceneRng = sceneRng(hash32(`${version.name}/${split}/${index}`));
  const S = version.canvas;
  const bg = paintBackground(rng, S);
  const rgb = bg.slice();
  const owner = new Int16Array(S * S).fill(-1);
  const instances: SceneInstance[] = [];
  const full: number[] = [], visible: number[] = [], minVisible: number[] = [];
  const claim = (d: Drawn, k: number) => {
    for (const p of d.pos) {
      const o = owner[p]!;
      if (o === k) continue;
      if (o >= 0) visible[o]!--;
      owner[p] = k;
      visible[k]!++;
    }
  };
  // Crowd region: 3–5 same-class small items inside a 24×24 window, one annotation.
  const [cn, cd] = SCENE_RULES.crowdChance;
  if (rng.int(cd) < cn) {
    const W = SCENE_RULES.crowdWindow, wx = rng.int(S - W + 1), wy = rng.int(S - W + 1);
    let lists = labelCache.get(pool);
    if (!lists) labelCache.set(pool, lists = byLabel(pool));
    const label = rng.int(10), list = lists[label]!;
    const n = rng.range(SCENE_RULES.crowdItems[0], SCENE_RULES.crowdItems[1]);
    const tint = chooseTint(rng, bg, S, [wx, wy, W, W]);
    const src: number[] = [], scale: number[] = [];
    full.push(0);
    visible.push(0);
    for (let j = 0; j < n && list.length > 0; j++) {
      const i = list[rng.int(list.length)]!, flip = rng.int(2) === 1;
      const s = rng.range(SCENE_RULES.crowdSide[0], SCENE_RULES.crowdSide[1]);
      const d = drawItem(pool, i, s, flip, wx + rng.int(W - s + 1), wy + rng.int(W - s + 1), S);
      paint(rgb, d, tint);
      claim(d, 0);
      src.push(i);
      scale.push(s);
    }
    if (visible[0]! > 0) {
      full[0] = visible[0]!;
      minVisible.push(Math.ceil(full[0]! / 2));
      instances.push({ label, crowd: true, srcIndex: src, scale });
    } else {
      full.pop();
      visible.pop();
    }
  }
  const nItems = rng.range(version.items[0], version.items[1]);
  for (let j = 0; j < nItems; j++) {
    let placed = false;
    for (let t = 0; t < SCENE_RULES.placementTries && !placed; t++) {
      const src = rng.int(pool.count), flip = rng.int(2) === 1;
      const s = rng.range(version.side[0], version.side[1]);
      const x = rng.int(S - s + 1), y = rng.int(S - s + 1);
      const d = drawItem(pool, src, s, flip, x, y, S);
      if (d.pos.length < SCENE_RULES.minMaskPx) continue;
      const lost = new Map<number, number>();
      for (const p of d.pos) {
        const o = owner[p]!;
        if (o >= 0) lost.set(o, (lost.get(o) ?? 0) + 1);
      }
      let ok = true;
      for (const [o, n] of lost) if (visible[o]! - n < minVisible[o]!) ok = false;
      if (!ok) continue;
      const k = instances.length;
      full.push(d.pos.length);
      visible.push(0);
      minVisible.push(Math.max(SCENE_RULES.minMaskPx, Math.ceil(d.pos.length / 2)));
      paint(rgb, d, chooseTint(rng, bg, S, [x, y, s, s]));
      claim(d, k);
      instances.push({ label: pool.labels[src]!, crowd: false, srcIndex: [src], scale: [s] });
      placed = true;
    }
    if (!placed) break;
  }
  return { size: S, rgb, owner, semantic: semanticMap(owner, instances, S), instances };
}

/** Semantic labels from the owner map: class + 2, background 1, the 1-px ring around instances 0. */
function semanticMap(
  owner: Int16Array,
  instances: readonly SceneInstance[],
  S: number,
): Uint8Array {
  const sem = new Uint8Array(S * S);
  for (let p = 0; p < S * S; p++) {
    const o = owner[p]!;
    if (o >= 0) {
      sem[p] = instances[o]!.label + 2;
      continue;
    }
    const x = p % S, y = (p - x) / S;
    const ring = (x > 0 && owner[p - 1]! >= 0) || (x < S - 1 && owner[p + 1]! >= 0) ||
      (y > 0 && owner[p - S]! >= 0) || (y < S - 1 && owner[p + S]! >= 0);
    sem[p] = ring ? 0 : 1;
  }
  return sem;
}
