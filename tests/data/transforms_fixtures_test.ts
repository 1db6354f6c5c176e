/**
 * Transforms against Pillow / torchvision 0.14 outputs (tests/fixtures/transforms.json, made by
 * tools/make_transform_fixtures.py).
 */
import assert from "node:assert/strict";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  adjustSharpness,
  affineExact,
  autoContrast,
  centerCrop,
  equalize,
  gaussianBlur,
  grayscale,
  hflip,
  type Image,
  type Interpolation,
  invert,
  posterize,
  resize,
  resizedCrop,
  rotate,
  solarize,
  solarizeAdd,
} from "../../data/transforms/mod.ts";

interface Enc {
  shape: [number, number, number];
  b64: string;
}
interface Case {
  name: string;
  op: string;
  src: "rgb" | "grey";
  args: Record<string, unknown>;
  out: Enc;
}

const fixtures = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/transforms.json", import.meta.url)),
) as { inputs: Record<string, Enc>; cases: Case[] };

function dec(e: Enc): Image {
  const bin = atob(e.b64);
  const data = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return { data, height: e.shape[0], width: e.shape[1], channels: e.shape[2] };
}

// deno-lint-ignore no-explicit-any
type Args = any;
const OPS: Record<string, (img: Image, a: Args) => Image> = {
  resize: (img, a) => resize(img, a.size, a.interpolation),
  resizedCrop: (img, a) =>
    resizedCrop(img, a.top, a.left, a.height, a.width, a.size, a.interpolation),
  centerCrop: (img, a) => centerCrop(img, a.size),
  hflip: (img) => hflip(img),
  brightness: (img, a) => adjustBrightness(img, a.factor),
  contrast: (img, a) => adjustContrast(img, a.factor),
  saturation: (img, a) => adjustSaturation(img, a.factor),
  color: (img, a) => adjustSaturation(img, a.factor),
  hue: (img, a) => adjustHue(img, a.factor),
  grayscale: (img, a) => grayscale(img, a.channels),
  solarize: (img, a) => solarize(img, a.threshold),
  blur: (img, a) => gaussianBlur(img, a.sigma, a.kernelSize),
  autoContrast: (img) => autoContrast(img),
  equalize: (img) => equalize(img),
  invert: (img) => invert(img),
  posterize: (img, a) => posterize(img, a.bits),
  solarizeAdd: (img, a) => solarizeAdd(img, a.add, a.threshold),
  sharpness: (img, a) => adjustSharpness(img, a.factor),
  rotate: (img, a) => rotate(img, a.degrees, a.interpolation as Interpolation, a.fill),
  affine: (img, a) => affineExact(img, a.matrix, a.interpolation as Interpolation, a.fill),
};

/** Allowed max |difference| per op (0 = bit-exact with Pillow). */
const TOL: Record<string, number> = { blur: 1 };

for (const c of fixtures.cases) {
  Deno.test(`transform fixture: ${c.name}`, () => {
    const src = dec(fixtures.inputs[c.src]!);
    const want = dec(c.out);
    const got = OPS[c.op]!(src, c.args);
    assert.deepEqual([got.height, got.width, got.channels], [
      want.height,
      want.width,
      want.channels,
    ]);
    let worst = 0, count = 0;
    for (let i = 0; i < want.data.length; i++) {
      const d = Math.abs(got.data[i]! - want.data[i]!);
      if (d > 0) count++;
      worst = Math.max(worst, d);
    }
    const tol = TOL[c.op] ?? 0;
    assert.ok(
      worst <= tol,
      `${c.name}: ${count} of ${want.data.length} values differ, max |diff| ${worst} > ${tol}`,
    );
  });
}
