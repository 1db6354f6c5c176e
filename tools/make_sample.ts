/**
 * Writes the Fashion-MNIST sample shipped in `data/sample/fashion-mnist/`: the first 4,000
 * train and first 1,000 test items of the full set, as gzip-compressed IDX files with the
 * original names.
 *
 * Usage: `deno run -R -W tools/make_sample.ts [--src DIR] [--out DIR] [--train N] [--test N]`
 * (defaults: `/usr/share/datasets/fashion-mnist/`, `data/sample/fashion-mnist/`, 4000, 1000).
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeIdx, readIdxFile } from "../data/idx.ts";

/** Gzips bytes with the web `CompressionStream`. */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Copies the first `n` items of one IDX file into a gzipped IDX file; returns its size. */
async function writeHead(src: string, dst: string, n: number): Promise<number> {
  const { dims, data } = await readIdxFile(src);
  if (n > dims[0]!) throw new Error(`${src} has only ${dims[0]} items, asked for ${n}`);
  const itemSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const out = await gzip(encodeIdx([n, ...dims.slice(1)], data.subarray(0, n * itemSize)));
  await Deno.writeFile(dst, out);
  return out.length;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      src: { type: "string", default: "/usr/share/datasets/fashion-mnist/" },
      out: { type: "string", default: "data/sample/fashion-mnist/" },
      train: { type: "string", default: "4000" },
      test: { type: "string", default: "1000" },
    },
    strict: true,
  });
  await Deno.mkdir(values.out, { recursive: true });
  let total = 0;
  for (
    const [prefix, n] of [["train", Number(values.train)], ["t10k", Number(values.test)]] as const
  ) {
    for (const kind of ["images-idx3", "labels-idx1"]) {
      const name = `${prefix}-${kind}-ubyte.gz`;
      const size = await writeHead(join(values.src, name), join(values.out, name), n);
      total += size;
      console.log(`${join(values.out, name)}: ${n} items, ${size} bytes`);
    }
  }
  console.log(`total ${total} bytes`);
}
