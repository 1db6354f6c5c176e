import assert from "node:assert/strict";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";

Deno.test("train.ts scenes: usage errors exit 2 naming the flag; --help exits 0", async () => {
  for (
    const [argv, re] of [
      [["scenes"], /--version is required/],
      [
        ["scenes", "--version", "big", "--out", "x"],
        /--version must be one of tiny, small, got "big"/,
      ],
      [["scenes", "--version", "tiny"], /--out DIR is required/],
      [["scenes", "--frobnicate"], /unknown flag --frobnicate/],
      [["scenes", "--out", ""], /--out needs a directory/],
      [["scenes", "--version", "tiny", "--version", "tiny"], /flag --version is given twice/],
      [["scenes", "--version"], /flag --version needs a value/],
    ] as const
  ) {
    const io = captureIO();
    assert.equal(await main([...argv], io), 2, argv.join(" "));
    assert.match(io.stderr, re);
  }
  const io = captureIO();
  assert.equal(await main(["scenes", "--help"], io), 0);
  assert.match(io.stdout.join("\n"), /--version tiny\|small/);
});

Deno.test("train.ts scenes --version tiny writes the data set and prints its hashes", async () => {
  const out = await Deno.makeTempDir({ prefix: "tessera_scenes_cli_" });
  try {
    const io = captureIO();
    assert.equal(await main(["scenes", "--version", "tiny", "--out", out], io), 0);
    const line = JSON.parse(io.stdout[0]!);
    assert.equal(line.splits.val.images, 40);
    assert.match(io.stderr, /200\/200 images/);
    const meta = JSON.parse(await Deno.readTextFile(`${out}/fmnist-scenes-tiny/meta.json`));
    assert.deepEqual(meta.splits, line.splits);
    assert.ok((await Deno.stat(`${out}/fmnist-scenes-tiny/images/train/000160.png`)).isFile);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
