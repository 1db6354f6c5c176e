import assert from "node:assert/strict";
import { local, parseDist, simulate } from "../../distributed/mod.ts";
import { launchedBy, loadMpi } from "../../distributed/mpi_ffi.ts";
import cases from "./_collective_cases.ts";
import { expected, expectedEncoded, N } from "./_expected.ts";
import { encode } from "./_encode.ts";
import { SIM_TIMEOUT_MS } from "./_mpirun.ts";

const CASES = new URL("./_collective_cases.ts", import.meta.url);

Deno.test("distributed: the int32 case really overflows (sums wrap like MPI's C ints)", () => {
  assert.equal(expected(2, 0)["int32 allReduceSum"]![0], 2 ** 31 - 1 + (2 ** 31 - 2) - 2 ** 32);
});

Deno.test("distributed: local() gives every case's one-rank result", () => {
  assert.equal(encode(cases(local(), { n: N })), expectedEncoded(1)[0]);
  const c = local();
  c.close();
  assert.throws(() => c.barrier(), /barrier: the local collectives were closed/);
});

for (const W of [2, 3]) {
  Deno.test(`distributed: sim(${W}) gives the rank-order results, bit for bit`, async () => {
    const res = await simulate(W, CASES, { input: { n: N }, timeoutMs: SIM_TIMEOUT_MS });
    assert.deepEqual(res.map(encode), expectedEncoded(W));
  });
}

const dataModule = (src: string) => "data:application/javascript," + encodeURIComponent(src);

Deno.test("distributed: sim names ranks that call different collectives", async () => {
  const mod = dataModule(
    "export default (c) => c.allReduceSum(new Float32Array(c.rank === 0 ? 2 : 3));",
  );
  await assert.rejects(
    simulate(2, mod, { timeoutMs: SIM_TIMEOUT_MS }),
    /rank \d of 2 failed: .*allReduceSum: ranks disagree: rank 0 calls allReduceSum\(float32 × 2\), rank 1 allReduceSum\(float32 × 3\)/s,
  );
});

Deno.test("distributed: an error in sim rank 1 stops rank 0 and names rank 1", async () => {
  const mod = dataModule(
    "export default (c) => { if (c.rank === 1) throw new Error('boom in 1'); c.barrier(); };",
  );
  await assert.rejects(
    simulate(2, mod, { timeoutMs: SIM_TIMEOUT_MS }),
    /rank 1 of 2 failed: .*boom in 1/s,
  );
});

Deno.test("distributed: sim rejects a contribution over its capacity, and bad arguments", async () => {
  const mod = dataModule("export default (c) => c.allGather(new Float64Array(16));");
  await assert.rejects(
    simulate(2, mod, { capacityBytes: 64, timeoutMs: SIM_TIMEOUT_MS }),
    /16 float64 elements \(128 bytes\) exceed the sim slot of 64 bytes/,
  );
  await assert.rejects(simulate(0, mod), /simulate: size must be a positive integer, got 0/);
  await assert.rejects(simulate(2, "./x.ts"), /module must be an absolute URL/);
  assert.throws(
    () => local().allReduceSum([1, 2] as unknown as Float32Array),
    /allReduceSum: expected a Float32Array, Float64Array or Int32Array, got Array/,
  );
});

Deno.test("distributed: launchedBy reads Open MPI's and PMI's variables", () => {
  assert.deepEqual(launchedBy({ PMI_SIZE: "4", PMI_RANK: "3" }), {
    flavor: "mpich",
    size: 4,
    rank: 3,
    variable: "PMI_SIZE",
  });
  assert.throws(() => launchedBy({ OMPI_COMM_WORLD_SIZE: "two" }), /initMpi: the launcher set/);
});

Deno.test("distributed: no loadable MPI library under a launcher is a clear TesseraError", () => {
  const launch = launchedBy({ OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_RANK: "0" });
  assert.throws(
    () => loadMpi(launch, "/nonexistent/libmpi.so.40"),
    /initMpi: OMPI_COMM_WORLD_SIZE=2 says an MPI launcher started this process, but no MPI library could be loaded .* tried \/nonexistent\/libmpi.so.40 as openmpi: .*; \/nonexistent\/libmpi.so.40 as mpich/,
  );
});

Deno.test("distributed: initMpi in a process 'started by mpirun' without a library fails clearly", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { initMpi } from "${new URL(
        "../../distributed/mod.ts",
        import.meta.url,
      )}"; initMpi();`,
    ],
    env: {
      OMPI_COMM_WORLD_SIZE: "2",
      OMPI_COMM_WORLD_RANK: "1",
      TESSERA_MPI_LIB: "/nonexistent/libmpi.so",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.notEqual(out.code, 0);
  assert.match(err, /TesseraError: initMpi: OMPI_COMM_WORLD_SIZE=2 says an MPI launcher started/);
});

Deno.test("distributed: parseDist refuses unknown engines", () => {
  assert.throws(() => parseDist("sim:0"), /parseDist: --dist must be local, mpi or sim:W/);
  assert.throws(() => parseDist("nccl"), /got "nccl"/);
  assert.deepEqual(parseDist("mpi", {}), { engine: "mpi" });
});
