import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_SYSTEM_DIR,
  loadFashionMnist,
} from "../../data/fashion_mnist.ts";
import { encodeIdx } from "../../data/idx.ts";
import { TesseraError } from "../../tensor/errors.ts";

const SAMPLE_URL = new URL("../../data/sample/fashion-mnist/", import.meta.url);
const SAMPLE_DIR = fromFileUrl(SAMPLE_URL);
const TRAIN_FIRST = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5];
const TEST_FIRST = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7];

async function hasSystemSet(): Promise<boolean> {
  try {
    await Deno.stat(`${FASHION_MNIST_SYSTEM_DIR}train-images-idx3-ubyte.gz`);
    await Deno.stat(`${FASHION_MNIST_SYSTEM_DIR}t10k-images-idx3-ubyte.gz`);
    return true;
  } catch {
    return false;
  }
}
const SYSTEM = await hasSystemSet();

/** Awaits `p`, expecting a TesseraError whose message matches `pattern`. */
async function rejects(p: Promise<unknown>, op: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof TesseraError, `expected a TesseraError, got ${e}`);
    assert.equal(e.op, op);
    assert.match(e.message, pattern);
    return true;
  });
}

/** Sum of all pixels, a cheap fingerprint of an image buffer. */
function pixelSum(images: Uint8Array): number {
  let s = 0;
  for (const v of images) s += v;
  return s;
}

Deno.test("FASHION_MNIST_CLASSES lists the ten classes in label order", () => {
  assert.equal(FASHION_MNIST_CLASSES.length, 10);
  assert.equal(FASHION_MNIST_CLASSES[0], "T-shirt/top");
  assert.equal(FASHION_MNIST_CLASSES[9], "Ankle boot");
});

Deno.test({
  name: "loadFashionMnist() reads the full system set when installed",
  ignore: !SYSTEM,
  async fn() {
    const train = await loadFashionMnist({ split: "train", dir: FASHION_MNIST_SYSTEM_DIR });
    assert.equal(train.count, 60000);
    assert.equal(train.images.length, 60000 * 784);
    assert.equal(train.labels.length, 60000);
    assert.deepEqual([...train.labels.subarray(0, 10)], TRAIN_FIRST);
    // 6,000 items per class.
    const perClass = new Array(10).fill(0);
    for (const l of train.labels) perClass[l]++;
    assert.deepEqual(perClass, new Array(10).fill(6000));
    // Pixel mean over train: 72.94 (data-eval spec §5.1).
    assert.ok(Math.abs(pixelSum(train.images) / train.images.length - 72.94) < 0.01);

    const test = await loadFashionMnist({ split: "test" });
    assert.equal(test.source, FASHION_MNIST_SYSTEM_DIR);
    assert.equal(test.count, 10000);
    assert.deepEqual([...test.labels.subarray(0, 10)], TEST_FIRST);
  },
});

Deno.test("loadFashionMnist() reads the shipped sample from an explicit dir", async () => {
  const train = await loadFashionMnist({ split: "train", dir: SAMPLE_DIR });
  assert.equal(train.count, 4000);
  assert.equal(train.rows, 28);
  assert.equal(train.cols, 28);
  assert.equal(train.images.length, 4000 * 784);
  assert.equal(train.labels.length, 4000);
  assert.deepEqual([...train.labels.subarray(0, 10)], TRAIN_FIRST);
  assert.equal(train.source, SAMPLE_DIR);

  const test = await loadFashionMnist({ split: "test", dir: SAMPLE_URL });
  assert.equal(test.count, 1000);
  assert.deepEqual([...test.labels.subarray(0, 10)], TEST_FIRST);
  assert.equal(test.source, SAMPLE_URL.href);
  assert.ok(test.labels.every((l) => l <= 9));
});

Deno.test({
  name: "loadFashionMnist() sample is the prefix of the system set",
  ignore: !SYSTEM,
  async fn() {
    const sample = await loadFashionMnist({ split: "test", dir: SAMPLE_DIR });
    const full = await loadFashionMnist({ split: "test", limit: 1000 });
    assert.deepEqual(sample.images, full.images);
    assert.deepEqual(sample.labels, full.labels);
  },
});

Deno.test("loadFashionMnist() applies limit", async () => {
  const all = await loadFashionMnist({ split: "test", dir: SAMPLE_DIR });
  const ten = await loadFashionMnist({ split: "test", dir: SAMPLE_DIR, limit: 10 });
  assert.equal(ten.count, 10);
  assert.equal(ten.images.length, 10 * 784);
  assert.deepEqual([...ten.labels], TEST_FIRST);
  assert.deepEqual(ten.images, all.images.subarray(0, 7840));
  // The limited result owns its bytes: a copy, not a view of the whole split.
  assert.equal(ten.images.buffer.byteLength, 7840);

  const zero = await loadFashionMnist({ split: "test", dir: SAMPLE_DIR, limit: 0 });
  assert.equal(zero.count, 0);
  assert.equal(zero.images.length, 0);
  assert.equal(zero.labels.length, 0);

  const more = await loadFashionMnist({ split: "test", dir: SAMPLE_DIR, limit: 5000 });
  assert.equal(more.count, 1000);

  for (const limit of [-1, 1.5, NaN, Infinity]) {
    await rejects(
      loadFashionMnist({ split: "test", dir: SAMPLE_DIR, limit }),
      "loadFashionMnist",
      /limit must be a non-negative integer/,
    );
  }
});

Deno.test("loadFashionMnist() rejects a bad split", async () => {
  await rejects(
    loadFashionMnist({ split: "val" as "test", dir: SAMPLE_DIR }),
    "loadFashionMnist",
    /split must be "train" or "test", got "val"/,
  );
});

Deno.test("loadFashionMnist() names an explicit dir that lacks the files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_fmnist_" });
  try {
    await rejects(
      loadFashionMnist({ split: "train", dir }),
      "loadFashionMnist",
      new RegExp(`no Fashion-MNIST train files in ${dir}: looked for train-images-idx3-ubyte`),
    );
    await rejects(
      loadFashionMnist({ split: "test", dir: `${dir}/nowhere` }),
      "loadFashionMnist",
      /no Fashion-MNIST test files in .*nowhere/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFashionMnist() reads uncompressed files and checks their shapes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_fmnist_" });
  try {
    const images = new Uint8Array(3 * 784).map((_, i) => i % 251);
    await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte`, encodeIdx([3, 28, 28], images));
    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, encodeIdx([3], Uint8Array.of(1, 2, 3)));
    const test = await loadFashionMnist({ split: "test", dir });
    assert.equal(test.count, 3);
    assert.deepEqual(test.images, images);
    assert.deepEqual([...test.labels], [1, 2, 3]);

    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, encodeIdx([2], Uint8Array.of(1, 2)));
    await rejects(
      loadFashionMnist({ split: "test", dir }),
      "loadFashionMnist",
      /3 images in .* but 2 labels in /,
    );

    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, encodeIdx([3], Uint8Array.of(1, 10, 3)));
    await rejects(
      loadFashionMnist({ split: "test", dir }),
      "loadFashionMnist",
      /label 10 at index 1 is not a class in 0\.\.9/,
    );

    await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte`, encodeIdx([3, 784], images));
    await rejects(
      loadFashionMnist({ split: "test", dir }),
      "loadFashionMnist",
      /expected images of dims \[N,28,28\], got \[3,784\]/,
    );

    await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte`, Uint8Array.of(0, 0, 9, 3));
    await rejects(
      loadFashionMnist({ split: "test", dir }),
      "readIdx",
      /t10k-images-idx3-ubyte: unsupported dtype code 0x09/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFashionMnist() falls back to the shipped sample", async () => {
  // Run in a subprocess that may only read the repository, so the system set (if any) is
  // invisible and the default search must end at the sample next to data/fashion_mnist.ts.
  const repo = fromFileUrl(new URL("../../", import.meta.url));
  const modUrl = new URL("../../data/mod.ts", import.meta.url).href;
  const code = `
    import { loadFashionMnist } from ${JSON.stringify(modUrl)};
    const d = await loadFashionMnist({ split: "train", limit: 10 });
    console.log(JSON.stringify({ count: d.count, labels: [...d.labels], source: d.source }));
  `;
  const { code: exit, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--no-lock",
      "--no-config",
      `--allow-read=${repo}`,
      `data:application/typescript;base64,${btoa(code)}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(exit, 0, err);
  const out = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(out.count, 10);
  assert.deepEqual(out.labels, TRAIN_FIRST);
  assert.equal(out.source, SAMPLE_URL.href);
});
