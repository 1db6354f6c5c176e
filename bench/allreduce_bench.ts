/**
 * Allreduce bandwidth and data-parallel step-time scaling (issue 18).
 *
 *   deno run -A bench/allreduce_bench.ts            # drives everything, prints markdown tables
 *
 * The driver starts `mpirun -np 2` (Open MPI, and MPICH's mpiexec.hydra where installed) on
 * this same file; under a launcher it runs one replica function and prints `RESULT rank json`.
 * It also runs the replicas under sim(2) (Workers) and the step under local() (1 rank).
 *
 * - allreduce: float32 in-place `allReduceSum` of 1 Ki … 16 Mi elements; algorithm bandwidth
 *   bytes/time and bus bandwidth algbw·2(W−1)/W (the nccl-tests convention).
 * - step: one SGD step of a 2-layer MLP (784→512→10, softmax cross-entropy) on a fixed global
 *   batch of 256, the gradient pytree summed with one fused `allReduceSumTree` per step:
 *   1 rank × 256 vs 2 ranks × 128.
 */
import { valueAndGrad } from "../autodiff/mod.ts";
import {
  allReduceSumTree,
  type Collectives,
  initMpi,
  launchedBy,
  local,
  simulate,
} from "../distributed/mod.ts";
import {
  dispose,
  logsumexp,
  matmul,
  mean,
  mul,
  relu,
  scope,
  sub,
  sum,
  tensor,
} from "../tensor/mod.ts";

const SIZES = [1024, 65536, 1 << 20, 1 << 24];

/** Median seconds per in-place allReduceSum for each size. */
export function allreduce(coll: Collectives): { n: number; s: number }[] {
  return SIZES.map((n) => {
    const buf = new Float32Array(n).fill(coll.rank + 1);
    const reps = Math.max(3, Math.min(200, Math.round(2e7 / n)));
    coll.allReduceSum(buf, { inPlace: true }); // warm-up
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      coll.barrier();
      const t0 = performance.now();
      coll.allReduceSum(buf, { inPlace: true });
      times.push((performance.now() - t0) / 1e3);
    }
    // every rank reports the slowest rank's median
    const med = times.sort((a, b) => a - b)[reps >> 1]!;
    const all = coll.allGather(new Float64Array([med]));
    return { n, s: Math.max(...all) };
  });
}

function det(n: number, seed: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * scale);
}

/** Median milliseconds of one data-parallel SGD step on a global batch of `batch`. */
export async function step(
  coll: Collectives,
  input: { batch: number; steps: number } | null,
): Promise<number> {
  const batch = input?.batch ?? 256, steps = input?.steps ?? 8;
  const B = batch / coll.size, from = coll.rank * B;
  const x = tensor(det(batch * 784, 1, 1).subarray(from * 784, (from + B) * 784), {
    shape: [B, 784],
  });
  const labels = new Float32Array(B * 10);
  for (let i = 0; i < B; i++) labels[i * 10 + ((from + i) % 10)] = 1;
  const y = tensor(labels, { shape: [B, 10] });
  let params = {
    w1: tensor(det(784 * 512, 2, 0.05), { shape: [784, 512] }),
    w2: tensor(det(512 * 10, 3, 0.05), { shape: [512, 10] }),
  };
  const loss = (p: typeof params) => {
    const logits = matmul(relu(matmul(x, p.w1)), p.w2);
    const nll = sub(logsumexp(logits, 1), sum(mul(logits, y), 1));
    return mul(mean(nll), B / batch); // this rank's share of the global mean
  };
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    coll.barrier();
    const t0 = performance.now();
    const [l, g] = valueAndGrad(loss)(params);
    const total = await allReduceSumTree(coll, g);
    const next = scope(() => ({
      w1: sub(params.w1, mul(total.w1, 0.1)),
      w2: sub(params.w2, mul(total.w2, 0.1)),
    }));
    await next.w2.data();
    times.push(performance.now() - t0);
    dispose([l, g, total, params]);
    params = next;
  }
  dispose([params, x, y]);
  const med = times.slice(2).sort((a, b) => a - b)[(steps - 2) >> 1]!;
  return Math.max(...coll.allGather(new Float64Array([med])));
}

const launch = launchedBy(Deno.env.toObject());
if (import.meta.main && launch) {
  const coll = initMpi();
  const [name, input = "null"] = Deno.args;
  const fn = name === "step" ? step : allreduce;
  console.log(`RESULT ${coll.rank} ${JSON.stringify(await fn(coll, JSON.parse(input)))}`);
  coll.close();
} else if (import.meta.main) {
  const env = {
    OMPI_ALLOW_RUN_AS_ROOT: "1",
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
  }; // Open MPI's shared-memory single-copy (CMA) left at its default: ~6× faster at 64 MiB here
  const job = async (cmd: string, extra: string[], args: string[]) => {
    try {
      const out = await new Deno.Command(cmd, {
        args: [
          ...extra,
          "-np",
          "2",
          Deno.execPath(),
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          ...args,
        ],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const line = new TextDecoder().decode(out.stdout).split("\n").find((l) =>
        l.startsWith("RESULT 0 ")
      );
      return line ? JSON.parse(line.slice(9)) : null;
    } catch {
      return null;
    }
  };
  const engines: [string, (args: string[]) => Promise<unknown>][] = [
    ["mpi(2) Open MPI", (a) => job("mpirun", ["--oversubscribe"], a)],
    ["mpi(2) MPICH", (a) => job("mpiexec.hydra", [], a)],
    ["sim(2)", async (a) =>
      (await simulate(2, import.meta.url, {
        exportName: a[0]!,
        input: a[1] ? JSON.parse(a[1]) : null,
        capacityBytes: 4 * (1 << 24),
      }))[0]],
  ];
  console.log("| engine | elements | bytes | time (ms) | algbw (GB/s) | busbw (GB/s) |");
  console.log("| ------ | -------: | ----: | --------: | -----------: | -----------: |");
  for (const [name, run] of engines) {
    const rows = await run(["allreduce"]) as { n: number; s: number }[] | null;
    for (const r of rows ?? []) {
      const bytes = 4 * r.n, alg = bytes / r.s / 1e9;
      console.log(
        `| ${name} | ${r.n} | ${bytes} | ${(r.s * 1e3).toFixed(3)} | ${alg.toFixed(2)} | ${
          alg.toFixed(2)
        } |`,
      );
    }
  }
  const input = JSON.stringify({ batch: 256, steps: 8 });
  console.log("\n| engine | ranks × batch | step (ms) |");
  console.log("| ------ | ------------: | --------: |");
  console.log(`| local | 1 × 256 | ${(await step(local(), JSON.parse(input))).toFixed(1)} |`);
  for (const [name, run] of engines) {
    const ms = await run(["step", input]) as number | null;
    if (ms !== null) console.log(`| ${name} | 2 × 128 | ${ms.toFixed(1)} |`);
  }
}
