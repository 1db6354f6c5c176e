import assert from "node:assert/strict";
import {
  adjustBrightness,
  blurKernelSize,
  centerCrop,
  colorJitter,
  colorJitterParams,
  crop,
  cutmixBox,
  gaussianBlur,
  grayscale,
  hflip,
  type HostBatch,
  image,
  luma,
  mixup,
  mixupParams,
  mixupTargets,
  normalize,
  randAugment,
  randomHorizontalFlip,
  randomResizedCrop,
  randomResizedCropParams,
  roundHalfEven,
  solarize,
  toFloat,
} from "../../data/transforms/mod.ts";
import { Rng, rngFromKey, rngFromSeed } from "../../tensor/host_rng.ts";
import { random, TesseraError } from "../../mod.ts";

const rng = (s = 1) => rngFromSeed([s, 2, 3, 4]);
const noise = (h: number, w: number, c: number, seed = 7) => {
  const r = rng(seed);
  return image(Uint8Array.from({ length: h * w * c }, () => r.int(0, 255)), h, w, c);
};

Deno.test("Rng: deterministic, ranges, int inclusive and unbiased, beta mean", async () => {
  const a = rng(), b = rng();
  for (let i = 0; i < 100; i++) assert.equal(a.uint32(), b.uint32());
  const r = rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const u = r.random();
    assert.ok(u >= 0 && u < 1);
    const k = r.int(-2, 2);
    assert.ok(Number.isInteger(k) && k >= -2 && k <= 2);
    seen.add(k);
  }
  assert.equal(seen.size, 5);
  let m = 0;
  for (let i = 0; i < 4000; i++) m += r.beta(0.8, 0.8);
  assert.ok(Math.abs(m / 4000 - 0.5) < 0.03, `beta mean ${m / 4000}`);
  let g = 0;
  for (let i = 0; i < 4000; i++) g += r.gamma(0.5);
  assert.ok(Math.abs(g / 4000 - 0.5) < 0.05, `gamma mean ${g / 4000}`);
  const k1 = await rngFromKey(random.key(5)), k2 = await rngFromKey(random.key(5));
  assert.equal(k1.uint32(), k2.uint32());
  assert.notEqual((await rngFromKey(random.key(6))).uint32(), rngFromSeed([0, 0, 0, 0]).uint32());
  assert.throws(() => r.int(3, 2), TesseraError);
  assert.deepEqual([...r.permutation(6)].sort(), [0, 1, 2, 3, 4, 5]);
});

Deno.test("roundHalfEven matches Python's round", () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [
    0,
    2,
    2,
    -0,
    -2,
    2,
    3,
  ]);
});

Deno.test("RandomResizedCrop: bounds, scale and ratio over many draws", () => {
  const r = rng(11);
  for (let i = 0; i < 2000; i++) {
    const H = r.int(1, 300), W = r.int(1, 300);
    const [t, l, h, w] = randomResizedCropParams(r, H, W);
    assert.ok(
      t >= 0 && l >= 0 && h >= 1 && w >= 1 && t + h <= H && l + w <= W,
      `${[t, l, h, w]} in ${H}×${W}`,
    );
  }
  // On a big square image the first attempt almost always succeeds: area and ratio in range.
  for (let i = 0; i < 200; i++) {
    const [, , h, w] = randomResizedCropParams(r, 1000, 1000, [0.08, 1], [3 / 4, 4 / 3]);
    assert.ok((h * w) / 1e6 >= 0.075 && (h * w) / 1e6 <= 1.01);
    assert.ok(w / h >= 0.74 && w / h <= 1.35, `${w / h}`);
  }
  const out = randomResizedCrop([5, 7])(noise(20, 30, 3), r);
  assert.deepEqual([out.height, out.width, out.channels], [5, 7, 3]);
});

Deno.test("RandomResizedCrop: the 10-attempt fallback is torchvision's centred crop", () => {
  // Wide image, large scale: every attempt is too tall, so the fallback clamps to ratio 4/3.
  for (let s = 0; s < 20; s++) {
    assert.deepEqual(randomResizedCropParams(rng(s), 10, 100, [0.9, 1]), [0, 43, 10, 13]);
    // Tall image: w = W, h = round(W / (3/4)).
    assert.deepEqual(randomResizedCropParams(rng(s), 100, 10, [0.9, 1]), [43, 0, 13, 10]);
  }
  // Ratio range excluding the image's own aspect with an impossible scale: whole-width crop.
  assert.deepEqual(randomResizedCropParams(rng(), 10, 10, [2, 3], [0.5, 2]), [0, 0, 10, 10]);
});

Deno.test("flip, crop, centre crop, toFloat, normalize", () => {
  const img = image(Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i), 2, 3, 3);
  assert.deepEqual([...hflip(img).data.slice(0, 3)], [6, 7, 8]);
  assert.deepEqual(hflip(hflip(img)).data, img.data);
  assert.equal(randomHorizontalFlip(0)(img, rng()), img);
  const c = crop(img, -1, 1, 2, 2);
  assert.deepEqual([...c.data], [0, 0, 0, 0, 0, 0, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(centerCrop(noise(5, 5, 1), 5).data, noise(5, 5, 1).data);
  const f = toFloat(img);
  assert.deepEqual([f.channels, f.height, f.width], [3, 2, 3]);
  assert.equal(f.data[1], Math.fround(3 / 255)); // channel 0, pixel 1
  assert.equal(f.data[6], Math.fround(1 / 255)); // channel 1, pixel 0
  const n = normalize(f, [0.1, 0.2, 0.3], [0.5, 0.25, 2]);
  assert.ok(Math.abs(n.data[6]! - (1 / 255 - 0.2) / 0.25) < 1e-6);
  assert.throws(() => normalize(f, [0, 0], [1, 1]), /mean has 2 entries/);
});

Deno.test("greyscale uses ITU-R 601-2 weights; solarize threshold; brightness factor", () => {
  assert.equal(luma(255, 0, 0), 76);
  assert.equal(luma(0, 255, 0), 150);
  assert.equal(luma(0, 0, 255), 29);
  assert.equal(luma(255, 255, 255), 255);
  const g = grayscale(image(new Uint8Array([10, 200, 30]), 1, 1, 3));
  assert.deepEqual(
    [...g.data],
    Array(3).fill(Math.floor((10 * 19595 + 200 * 38470 + 30 * 7471 + 32768) / 65536)),
  );
  const s = solarize(image(new Uint8Array([0, 127, 128, 200, 255]), 1, 5, 1));
  assert.deepEqual([...s.data], [0, 127, 127, 55, 0]);
  assert.deepEqual([...adjustBrightness(image(new Uint8Array([100, 200]), 1, 2, 1), 1.5).data], [
    150,
    255,
  ]);
});

Deno.test("ColorJitter: factor ranges, random order, disabled ops skipped", () => {
  const r = rng(5);
  const orders = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const { order, factors } = colorJitterParams(r, {
      brightness: 0.4,
      contrast: 0.2,
      saturation: 1.5,
      hue: 0.1,
    });
    orders.add(order.join(""));
    assert.ok(factors[0]! >= 0.6 && factors[0]! <= 1.4);
    assert.ok(factors[1]! >= 0.8 && factors[1]! <= 1.2);
    assert.ok(factors[2]! >= 0 && factors[2]! <= 2.5);
    assert.ok(factors[3]! >= -0.1 && factors[3]! <= 0.1);
  }
  assert.equal(orders.size, 24);
  const { factors } = colorJitterParams(r, { brightness: 0.3 });
  assert.deepEqual(factors.slice(1), [null, null, null]);
  const img = noise(4, 4, 3);
  assert.deepEqual(colorJitter({})(img, r).data, img.data);
  assert.throws(() => colorJitter({ hue: 0.7 }), TesseraError);
});

Deno.test("Gaussian blur: reference kernel, σ = 0.1 is the identity, kernel size rule", () => {
  assert.equal(blurKernelSize(0.1), 3);
  assert.equal(blurKernelSize(1), 7);
  assert.equal(blurKernelSize(2), 13);
  const img = noise(9, 11, 3);
  assert.deepEqual(gaussianBlur(img, 0.1).data, img.data);
  // A centred impulse reproduces the normalised 1-D kernel's outer product.
  const imp = new Uint8Array(9 * 9);
  imp[40] = 255;
  const out = gaussianBlur(image(imp, 9, 9, 1), 1.2, 5).data;
  const k = [-2, -1, 0, 1, 2].map((x) => Math.exp(-0.5 * (x / 1.2) ** 2));
  const sum = k.reduce((a, b) => a + b);
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      const want = (255 * k[y]! * k[x]!) / (sum * sum);
      assert.ok(Math.abs(out[(y + 2) * 9 + x + 2]! - want) <= 0.5 + 1e-9, `${x},${y}`);
    }
  }
  // A constant image stays constant (weights sum to 1; reflect padding).
  const flat = image(new Uint8Array(25).fill(77), 5, 5, 1);
  assert.deepEqual([...gaussianBlur(flat, 2).data], Array(25).fill(77));
});

Deno.test("RandAugment: deterministic per seed; ops restricted; prob 0 is identity", () => {
  const img = noise(16, 16, 3);
  const ra = randAugment();
  assert.deepEqual(ra(img, rng(9)).data, ra(img, rng(9)).data);
  let changed = 0;
  for (let s = 0; s < 20; s++) {
    if (ra(img, rng(s)).data.some((v, i) => v !== img.data[i])) changed++;
  }
  assert.ok(changed >= 10, `changed ${changed}/20`);
  const inv = randAugment({ ops: ["Invert"], prob: 1, numLayers: 1 })(img, rng());
  assert.deepEqual([...inv.data], [...img.data].map((v) => 255 - v));
  assert.deepEqual(randAugment({ prob: 0 })(img, rng()).data, img.data);
  // Magnitude 0 with no noise: translate/shear/rotate by 0 are identities.
  const geo = randAugment({
    ops: ["ShearX", "TranslateYRel", "Rotate"],
    magnitude: 0,
    magnitudeStd: 0,
    prob: 1,
  });
  assert.deepEqual(geo(img, rng(4)).data, img.data);
  assert.throws(() => randAugment({ ops: ["Nope"] }), /unknown op/);
});

function batchOf(labels: number[], C = 1, H = 8, W = 8): HostBatch {
  const B = labels.length;
  const images = new Float32Array(B * C * H * W);
  for (let i = 0; i < B; i++) images.fill(i + 1, i * C * H * W, (i + 1) * C * H * W);
  return { images, shape: [B, C, H, W], labels: Int32Array.from(labels) };
}

Deno.test("Mixup/CutMix: targets sum to 1 and follow timm's formula", () => {
  const K = 5, eps = 0.1;
  const labels = [0, 3, 4, 1];
  for (let s = 0; s < 40; s++) {
    const batch = batchOf(labels);
    const out = mixup({ numClasses: K })(batch, rng(s));
    const p = mixupParams(rng(s), 8, 8, {
      mixupAlpha: 0.8,
      cutmixAlpha: 1,
      prob: 1,
      switchProb: 0.5,
      correctLam: true,
    });
    const t = out.targets!;
    for (let i = 0; i < 4; i++) {
      let rowSum = 0;
      for (let k = 0; k < K; k++) {
        const y1 = k === labels[i] ? 1 - eps + eps / K : eps / K;
        const y2 = k === labels[3 - i] ? 1 - eps + eps / K : eps / K;
        assert.ok(Math.abs(t[i * K + k]! - (p.lam * y1 + (1 - p.lam) * y2)) < 1e-6);
        rowSum += t[i * K + k]!;
      }
      assert.ok(Math.abs(rowSum - 1) < 1e-6);
    }
    // Sample i's own pixels carry weight λ: CutMix pastes exactly (1−λ)·H·W pixels of its partner.
    for (let i = 0; i < 4; i++) {
      const px = out.images.subarray(i * 64, (i + 1) * 64);
      if (p.cutmix) {
        const pasted = px.filter((v) => v === 4 - i).length;
        assert.equal(pasted, Math.round((1 - p.lam) * 64));
      } else {
        assert.ok(Math.abs(px[0]! - (p.lam * (i + 1) + (1 - p.lam) * (4 - i))) < 1e-5);
      }
    }
  }
  // λ = 1 (prob 0): plain smoothed one-hot.
  const t = mixupTargets(Int32Array.from([2, 0]), 4, 1, 0.1);
  assert.deepEqual([...t].map((v) => +v.toFixed(6)), [
    0.025,
    0.025,
    0.925,
    0.025,
    0.925,
    0.025,
    0.025,
    0.025,
  ]);
  const none = mixup({ numClasses: 3, prob: 0 })(batchOf([1, 2]), rng());
  assert.deepEqual(none.images, batchOf([1, 2]).images);
  assert.throws(() => mixup({ numClasses: 3 })(batchOf([1, 2, 0]), rng()), /must be even/);
  assert.throws(() => mixup({ numClasses: 3 })(batchOf([1, 7]), rng()), /outside 0..2/);
});

Deno.test("CutMix box: clipped to the image, λ is the unpasted fraction", () => {
  const r: Rng = rng(21);
  for (let i = 0; i < 500; i++) {
    const lam = r.random();
    const { box: [yl, yh, xl, xh], lam: l2 } = cutmixBox(r, 13, 17, lam);
    assert.ok(0 <= yl && yl <= yh && yh <= 13 && 0 <= xl && xl <= xh && xh <= 17);
    assert.ok(yh - yl <= Math.trunc(13 * Math.sqrt(1 - lam)));
    assert.equal(l2, 1 - ((yh - yl) * (xh - xl)) / (13 * 17));
  }
});
