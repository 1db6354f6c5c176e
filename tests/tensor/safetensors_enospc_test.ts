/**
 * `writeSafetensorsFile` on a real full disk (a 64 KiB tmpfs; root only, skipped with the reason
 * elsewhere) and into a missing directory: the error names the target, not the temporary file,
 * and the cause (ENOSPC / ENOENT); the file that was there before is intact and no temp file is
 * left behind.
 */
import assert from "node:assert/strict";
import { mountTmpfs, unmountTmpfs } from "../_tmpfs.ts";
import {
  readSafetensorsFile,
  tensor,
  TesseraError,
  writeSafetensorsFile,
  zeros,
} from "../../mod.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

const mountPoint = await mountTmpfs("64k", "safetensors_enospc_test") ?? "";
const mounted = mountPoint !== "";

Deno.test({
  name: "writeSafetensorsFile on a full disk: target and ENOSPC named, old file intact, no temp",
  ignore: !mounted,
  fn: async () => {
    try {
      const path = `${mountPoint}/model.safetensors`;
      await writeSafetensorsFile(path, { w: tensor([1, 2, 3]) }, { version: "small" });
      const big = zeros([64, 1024]); // 256 KiB of float32: four times the disk
      try {
        await assert.rejects(
          writeSafetensorsFile(path, { w: big }, { version: "big" }),
          (e: unknown) => {
            assert.ok(e instanceof TesseraError, String(e));
            assert.equal(e.op, "writeSafetensorsFile");
            assert.match(e.message, new RegExp(`cannot write ${path}: .*\\[ENOSPC\\]$`));
            assert.doesNotMatch(e.message, /\.tmp-/, "names the target, not the temp file");
            return true;
          },
        );
      } finally {
        big.dispose();
      }
      assert.deepEqual(names(mountPoint), ["model.safetensors"]);
      const back = await readSafetensorsFile(path);
      assert.equal(back.metadata.version, "small");
      assert.deepEqual(Array.from(await back.tensors.w!.data()), [1, 2, 3]);
      for (const t of Object.values(back.tensors)) t.dispose();
    } finally {
      await unmountTmpfs(mountPoint);
    }
  },
});

Deno.test("writeSafetensorsFile into a missing directory: the target and ENOENT named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tessera_st_missing_" });
  try {
    const path = `${dir}/no/such/dir/model.safetensors`;
    const w = tensor([1]);
    try {
      await assert.rejects(writeSafetensorsFile(path, { w }), (e: unknown) => {
        assert.ok(e instanceof TesseraError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `^writeSafetensorsFile: cannot write ${path}: No such file or directory.*\\[ENOENT\\]$`,
          ),
        );
        assert.doesNotMatch(e.message, /\.tmp-/);
        return true;
      });
    } finally {
      w.dispose();
    }
    assert.deepEqual(names(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
