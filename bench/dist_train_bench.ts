/**
 * Step-time scaling of `train.ts` data parallelism (issue 18): the same pretrain run (`--method`,
 * default beit; the default vit-tiny-fmnist encoder, global batch 64, 12 steps on the bundled
 * sample) on 1 rank,
 * `mpirun -np 2` (Open MPI, oversubscribed when needed) and `--dist sim:2`. Prints a markdown
 * table of the final records' `seconds_per_step` (mean over the steps, evaluation excluded).
 *
 *   deno run -A bench/dist_train_bench.ts [--method beit] [--batch 64] [--steps 12]
 */
import { fileURLToPath } from "node:url";

const arg = (f: string, d: string) => {
  const i = Deno.args.indexOf(f);
  return i >= 0 ? Deno.args[i + 1]! : d;
};
const batch = arg("--batch", "64"), steps = arg("--steps", "12"), method = arg("--method", "beit");
const train = fileURLToPath(new URL("../train.ts", import.meta.url));
const sample = fileURLToPath(new URL("../data/sample/fashion-mnist", import.meta.url));
const dir = await Deno.makeTempDir({ prefix: "tessera-dist-bench-" });
const flags = (out: string) => [
  ...["pretrain", "--method", method, "--data", sample, "--train-limit", "640"],
  ...["--batch", batch, "--steps", steps, "--warmup", "0", "--out", `${dir}/${out}`],
];
const env = {
  OMPI_ALLOW_RUN_AS_ROOT: "1",
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
  OMPI_MCA_btl_vader_single_copy_mechanism: "none",
  NO_COLOR: "1",
};

async function run(name: string, cmd: string, args: string[]): Promise<number> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0) throw new Error(`${name}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").at(-1)!).seconds_per_step as number;
}

const deno = Deno.execPath();
const rows: [string, string, number][] = [];
rows.push(["local", `1 × ${batch}`, await run("local", deno, ["run", "-A", train, ...flags("l")])]);
try {
  rows.push([
    "mpi(2) Open MPI",
    `2 × ${Number(batch) / 2}`,
    await run("mpi", "mpirun", [
      "--oversubscribe",
      "-np",
      "2",
      deno,
      "run",
      "-A",
      train,
      ...flags("m"),
    ]),
  ]);
} catch (e) {
  console.error(`mpirun: ${(e as Error).message.slice(0, 300)}`);
}
rows.push([
  "sim(2)",
  `2 × ${Number(batch) / 2}`,
  await run("sim", deno, ["run", "-A", train, ...flags("s"), "--dist", "sim:2"]),
]);
await Deno.remove(dir, { recursive: true });
console.log(`${method}, global batch ${batch}, ${steps} steps`);
console.log("| engine | ranks × batch | s/step | speed-up |\n| --- | ---: | ---: | ---: |");
for (const [e, b, s] of rows) {
  console.log(`| ${e} | ${b} | ${s.toFixed(3)} | ${(rows[0]![2] / s).toFixed(2)}× |`);
}
