import assert from "node:assert/strict";
import { DataLoader, type LabeledImage } from "../../data/loader.ts";
import { fashionMnistDataset } from "../../data/fashion_mnist_dataset.ts";
import { loadFashionMnist } from "../../data/fashion_mnist.ts";
import {
  compose,
  type Image,
  mixup,
  normalize,
  randomHorizontalFlip,
  randomResizedCrop,
  toFloat,
} from "../../data/transforms/mod.ts";
import { memoryStats, random, TesseraError } from "../../mod.ts";

/** n items; item i is a 4×4 greyscale image filled with i (mod 256), label i mod 3. */
function toy(n: number, delay = false) {
  return {
    length: n,
    async get(i: number): Promise<LabeledImage> {
      if (delay) await new Promise<void>((r) => queueMicrotask(r));
      const image: Image = {
        data: Uint8Array.from({ length: 16 }, (_, p) => (i + p) % 256),
        height: 4,
        width: 4,
        channels: 1,
      };
      return { image, label: i % 3, path: `item-${i}.png` };
    },
  };
}

const live = () => memoryStats().cpu?.tensors ?? 0;

async function collect(loader: DataLoader, epoch: number) {
  const out: { idx: number[]; images: number[]; labels: number[]; targets?: number[] }[] = [];
  for await (const b of loader.epoch(epoch)) {
    out.push({
      idx: [...b.indices],
      images: [...(await b.images.data())],
      labels: [...(await b.labels.data())],
      targets: b.targets ? [...(await b.targets.data())] : undefined,
    });
    b.dispose();
  }
  return out;
}

const augment = compose(
  randomResizedCrop(3, { scale: [0.3, 1] }),
  randomHorizontalFlip(),
  toFloat,
  (x) => normalize(x, [0.5], [0.5]),
);

Deno.test("DataLoader: deterministic across runs and prefetch depths; epochs differ", async () => {
  const before = live();
  const runs = [];
  for (const prefetch of [0, 1, 4]) {
    const loader = new DataLoader(toy(23, true), {
      batchSize: 4,
      seed: 42,
      prefetch,
      transform: augment,
      batchTransform: mixup({ numClasses: 3 }),
      dropLast: true,
    });
    runs.push(await collect(loader, 3));
  }
  assert.deepEqual(runs[1], runs[0]);
  assert.deepEqual(runs[2], runs[0]);
  assert.equal(runs[0]!.length, 5);
  assert.equal(runs[0]![0]!.targets!.length, 4 * 3);
  const key = random.key(42);
  const viaKey = new DataLoader(toy(23), {
    batchSize: 4,
    seed: key,
    transform: augment,
    batchTransform: mixup({ numClasses: 3 }),
    dropLast: true,
  });
  assert.deepEqual(await collect(viaKey, 3), runs[0]);
  const other = await collect(viaKey, 4);
  assert.notDeepEqual(other.map((b) => b.idx), runs[0]!.map((b) => b.idx));
  key.dispose();
  assert.equal(live(), before);
});

Deno.test("DataLoader: shuffling covers every item once; drop_last; no shuffle keeps order", async () => {
  const loader = new DataLoader(toy(10), { batchSize: 3, seed: 1 });
  assert.equal(loader.length, 4);
  const batches = await collect(loader, 0);
  assert.deepEqual(batches.map((b) => b.idx.length), [3, 3, 3, 1]);
  assert.deepEqual(batches.flatMap((b) => b.idx).sort((a, b) => a - b), [...Array(10).keys()]);
  assert.notDeepEqual(batches.flatMap((b) => b.idx), [...Array(10).keys()]);
  const dropped = new DataLoader(toy(10), { batchSize: 3, seed: 1, dropLast: true });
  assert.equal(dropped.length, 3);
  const d = await collect(dropped, 0);
  assert.deepEqual(d.map((b) => b.idx), batches.slice(0, 3).map((b) => b.idx));
  const ordered = await collect(
    new DataLoader(toy(5), { batchSize: 2, seed: 0, shuffle: false }),
    0,
  );
  assert.deepEqual(ordered.map((b) => b.idx), [[0, 1], [2, 3], [4]]);
  // Without transforms, images are the items /255 in CHW and labels are int32.
  assert.deepEqual(ordered[0]!.images.slice(0, 2), [0, 1 / 255].map(Math.fround));
  assert.deepEqual(ordered[2]!.labels, [1]);
});

Deno.test("DataLoader: breaking out early leaks nothing and leaves nothing pending", async () => {
  const before = live();
  const loader = new DataLoader(toy(50, true), { batchSize: 2, seed: 3, prefetch: 5 });
  let seen = 0;
  for await (const b of loader.epoch(0)) {
    using _ = b;
    if (++seen === 2) break;
  }
  assert.equal(live(), before);
});

Deno.test("DataLoader: bad labels and shapes give errors naming the sample", async () => {
  const bad = {
    length: 4,
    get: (i: number) => ({
      image: { data: new Uint8Array(4), height: 2, width: 2, channels: 1 },
      label: i === 2 ? 7 : 0,
      path: `/data/cls/img${i}.png`,
    }),
  };
  const loader = new DataLoader(bad, { batchSize: 2, seed: 0, shuffle: false, numClasses: 3 });
  await assert.rejects(collect(loader, 0), (e) => {
    assert.ok(e instanceof TesseraError);
    assert.match(
      e.message,
      /sample 2 \(\/data\/cls\/img2\.png\): label 7 is not a class in 0\.\.2/,
    );
    return true;
  });
  const ragged = {
    length: 2,
    get: (i: number) => ({
      image: { data: new Uint8Array(4 + 2 * i), height: 2, width: 2 + i, channels: 1 },
      label: 0,
    }),
  };
  await assert.rejects(
    collect(new DataLoader(ragged, { batchSize: 2, seed: 0, shuffle: false }), 0),
    /sample 1 has shape \[1,2,3\] but sample 0 has \[1,2,2\]/,
  );
  assert.throws(() => new DataLoader(bad, { batchSize: 0, seed: 0 }), /batchSize/);
  assert.throws(() => new DataLoader(bad, { batchSize: 1, seed: 0.5 }), /seed/);
});

Deno.test("Fashion-MNIST adapter through the loader", async () => {
  const split = await loadFashionMnist({ split: "test", limit: 64 });
  const ds = fashionMnistDataset(split, { channels: 3 });
  const item = ds.get(0);
  assert.deepEqual([item.image.height, item.image.width, item.image.channels, item.label], [
    28,
    28,
    3,
    9,
  ]);
  assert.equal(item.image.data[3 * 300], split.images[300]);
  assert.equal(item.image.data[3 * 300 + 2], split.images[300]);
  assert.throws(() => ds.get(64), /out of range/);
  const loader = new DataLoader(fashionMnistDataset(split), {
    batchSize: 16,
    seed: 0,
    numClasses: 10,
  });
  let n = 0;
  for await (const b of loader.epoch(0)) {
    assert.deepEqual(b.images.shape, [16, 1, 28, 28]);
    assert.equal(b.labels.dtype, "int32");
    n += b.labels.shape[0]!;
    b.dispose();
  }
  assert.equal(n, 64);
});
