/**
 * Data-parallel `train.ts` runs (trainer/dist.ts), tiny and 5 steps each, drop path on (every
 * example's draws from its global index): 2 ranks × B against 1 rank × 2B for finetune
 * (cross-entropy) and the three pre-training methods (BEiT's MIM; SplitMask's InfoNCE with
 * gathered negatives and DINO's all-reduced centre), and `mpirun -np 2` ≡ `--dist sim:2` bit
 * for bit, replica checksums equal. The mpirun part skips itself when no MPI launcher is
 * installed.
 *
 * Bit for bit: 2 ranks × B ≡ 1 rank × 2B as 2 micro-batches of B (`--accum 2`, trainer/accum.ts)
 * for finetune, BEiT and DINO (no example sees another's rows within a step; DINO's centre
 * statistic is averaged like the gradients). SplitMask's gathered InfoNCE sees all 2B rows, which
 * `--accum` does not (each micro-batch its own negatives), so it has no such twin.
 * To rounding only: against 1 rank × 2B in one pass (no `--accum`), since the CPU matmul's row
 * results depend on the row count and a batch-axis sum over 2B rows associates differently from
 * two sums over B added by the allreduce (here ≲ 1e-5 after 5 AdamW steps).
 */
import assert from "node:assert/strict";
import { main } from "../../cli/main.ts";
import { captureIO } from "../../trainer/io.ts";
import { runTrain, SAMPLE, TRAIN_TS } from "../cli/_util.ts";
import { ckptDiff } from "./_ckpt_diff.ts";
import { launchers, mpirun } from "./_mpirun.ts";

const COMMON = ["--data", SAMPLE, "--train-limit", "64", "--dim", "16", "--depth", "2"];
const SMALL = [
  ...COMMON,
  ...["--heads", "2", "--batch", "8", "--steps", "5", "--warmup", "0", "--drop-path", "0.2"],
];
const PRE = ["--vocab", "16", "--kmeans-iters", "3", "--out-dim", "32", "--hidden-dim", "16"];
/** `exact`: bit for bit against `--accum 2` on one rank. */
const RUNS: Record<string, { args: string[]; tol: number; exact: boolean }> = {
  finetune: { args: ["finetune", ...SMALL, "--test-limit", "20"], tol: 1e-5, exact: true },
  beit: { args: ["pretrain", "--method", "beit", ...SMALL, ...PRE], tol: 1e-5, exact: true },
  splitmask: {
    args: ["pretrain", "--method", "splitmask", ...SMALL, ...PRE],
    tol: 1e-4,
    exact: false,
  },
  dino: {
    args: ["pretrain", "--method", "dino", ...SMALL, ...PRE, "--bottleneck-dim", "8"],
    tol: 1e-4,
    exact: true,
  },
};

type Final = { loss?: number; train_loss?: number; ranks?: number; replica_checksum?: number };

async function run(name: string, out: string, dist: string, more: string[] = []): Promise<Final> {
  const r = await runTrain([...RUNS[name]!.args, "--out", out, "--dist", dist, ...more]);
  assert.equal(r.code, 0, `${name} --dist ${dist} ${more.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

const ckpt = (dir: string) => `${dir}/ckpt_latest.safetensors`;
const dir = await Deno.makeTempDir({ prefix: "tessera-dist-train-" });

Deno.test("distributed train: 2 ranks × B ≈ 1 rank × 2B (finetune, BEiT, SplitMask, DINO)", async () => {
  for (const name of Object.keys(RUNS)) {
    const [one, two] = await Promise.all([
      run(name, `${dir}/${name}-local`, "local"),
      run(name, `${dir}/${name}-sim`, "sim:2"),
      RUNS[name]!.exact ? run(name, `${dir}/${name}-accum`, "local", ["--accum", "2"]) : null,
    ]);
    const d = await ckptDiff(ckpt(`${dir}/${name}-local`), ckpt(`${dir}/${name}-sim`));
    assert.ok(d.maxAbs < RUNS[name]!.tol, `${name}: max |Δparam| ${d.maxAbs}`);
    assert.ok(d.maxAbs > 0 || d.identical, `${name}: diff`);
    const l1 = one.loss ?? one.train_loss!, l2 = two.loss ?? two.train_loss!;
    assert.ok(Math.abs(l1 - l2) < RUNS[name]!.tol, `${name}: loss ${l1} vs ${l2}`);
    assert.equal(two.ranks, 2, name);
    assert.equal(typeof two.replica_checksum, "number", name);
    assert.equal(one.replica_checksum, undefined, name);
  }
});

Deno.test("distributed train: 2 ranks × B ≡ 1 rank × 2B in 2 micro-batches, bit for bit", async () => {
  const exact = Object.keys(RUNS).filter((n) => RUNS[n]!.exact);
  assert.deepEqual(exact, ["finetune", "beit", "dino"]);
  for (const name of exact) {
    const d = await ckptDiff(ckpt(`${dir}/${name}-accum`), ckpt(`${dir}/${name}-sim`));
    assert.ok(d.identical, `${name}: --accum 2 ≠ sim:2 by ${d.maxAbs}`);
    const last = async (run: string) =>
      JSON.parse(
        (await Deno.readTextFile(`${dir}/${run}/metrics.jsonl`)).trim().split("\n").at(-1)!,
      );
    const [a, s] = [await last(`${name}-accum`), await last(`${name}-sim`)];
    assert.equal(a.loss ?? a.train_loss, s.loss ?? s.train_loss, name);
  }
});

Deno.test("distributed train: only rank 0 writes the run directory and prints", async () => {
  const entries = [...Deno.readDirSync(`${dir}/splitmask-sim`)].map((e) => e.name).sort();
  assert.ok(entries.includes("ckpt_latest.safetensors") && entries.includes("metrics.jsonl"));
  const lines = (await Deno.readTextFile(`${dir}/splitmask-sim/metrics.jsonl`)).trim().split("\n");
  const train = lines.map((l) => JSON.parse(l)).filter((r) => r.type === "train");
  assert.deepEqual(train.map((r) => r.step), [1, 2, 3, 4, 5], "one record per step, one writer");
});

Deno.test("distributed train: a sim:2 run stopped at step 2 and resumed ≡ the full run", async () => {
  const part = `${dir}/finetune-part`;
  const stopped = await runTrain([
    ...RUNS.finetune!.args,
    ...["--out", part, "--dist", "sim:2", "--stop-after", "2"],
  ]);
  assert.equal(stopped.code, 130, stopped.stderr);
  const resumed = await runTrain(["finetune", "--resume", part, "--dist", "sim:2"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const d = await ckptDiff(ckpt(part), ckpt(`${dir}/finetune-sim`));
  assert.ok(d.identical, `resumed ≠ full by ${d.maxAbs}`);
});

Deno.test("distributed train: --dist is checked", async () => {
  const io = captureIO();
  assert.equal(await main(["finetune", "--dist", "ring"], io), 2);
  assert.match(io.stderr, /--dist must be local, mpi or sim:W \(W ≥ 1\), got "ring"/);
  const odd = RUNS.finetune!.args.map((a, i, all) => all[i - 1] === "--batch" ? "7" : a);
  const r = await runTrain([...odd, "--out", `${dir}/odd`, "--dist", "sim:2"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--batch 7 does not split evenly over 2 ranks/);
  const a = await runTrain([...RUNS.finetune!.args, "--out", `${dir}/acc3`, "--accum", "3"]);
  assert.equal(a.code, 2, a.stderr);
  assert.match(a.stderr, /--accum 3: a batch of 8 rows does not split into 3 equal parts/);
  // segment and detect cannot shard yet: a usage error naming --dist, no crash, no run dir.
  for (const command of ["segment", "detect"]) {
    const out = `${dir}/${command}-dist`;
    const d = await runTrain([command, "--data", dir, "--smoke", "--out", out, "--dist", "sim:2"]);
    assert.equal(d.code, 2, d.stderr);
    assert.match(
      d.stderr,
      new RegExp(`--dist: ${command} runs on one rank only \\(2 ranks here\\)`),
    );
    assert.ok(!d.stderr.includes("    at "), `a stack trace: ${d.stderr}`);
    await assert.rejects(Deno.stat(out));
  }
});

const found = (await launchers()).filter((l) => l.flavor === "openmpi").slice(0, 1);
Deno.test({
  name: "distributed train mpi: skipped, Open MPI's mpirun is not installed",
  ignore: found.length > 0,
  fn() {},
});
for (const l of found) {
  Deno.test("distributed train mpi: mpirun -np 2 train.ts ≡ --dist sim:2 bit for bit", async () => {
    for (const name of Object.keys(RUNS)) {
      const out = `${dir}/${name}-mpi`;
      const job = await mpirun(l, 2, TRAIN_TS, [...RUNS[name]!.args, "--out", out]);
      assert.equal(job.code, 0, `${name}: ${job.stderr}`);
      const mpi: Final = JSON.parse(job.stdout.trim().split("\n").at(-1)!);
      const sim: Final = JSON.parse(
        (await Deno.readTextFile(`${dir}/${name}-sim/metrics.jsonl`)).trim().split("\n").at(-1)!,
      );
      const d = await ckptDiff(ckpt(out), ckpt(`${dir}/${name}-sim`));
      assert.ok(d.identical, `${name}: mpi ≠ sim by ${d.maxAbs}`);
      assert.equal(mpi.ranks, 2);
      assert.equal(mpi.replica_checksum, sim.replica_checksum, name);
      assert.equal(mpi.loss ?? mpi.train_loss, sim.loss ?? sim.train_loss, name);
    }
  });
}

Deno.test("distributed train: (removes its runs)", async () => {
  await Deno.remove(dir, { recursive: true });
});
