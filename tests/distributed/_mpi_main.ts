/**
 * Runs a replica module under MPI through `runDistributed`: `mpirun -np N deno run -A
 * tests/distributed/_mpi_main.ts <module URL> [export] [input JSON] [maxCount]`. Each rank
 * prints one line `RESULT <rank> <encoded result>` (see _encode.ts).
 */
import { parseDist, runDistributed } from "../../distributed/mod.ts";
import { encode } from "./_encode.ts";

const [module, exportName = "default", input = "null", maxCount] = Deno.args;
const spec = parseDist(undefined); // mpi: the launcher's variables are set
if (spec.engine !== "mpi") throw new Error(`not started by an MPI launcher: ${spec.engine}`);
const rank = Deno.env.get("OMPI_COMM_WORLD_RANK") ?? Deno.env.get("PMI_RANK");
const [result] = await runDistributed(spec, module!, {
  exportName,
  input: JSON.parse(input),
  mpi: maxCount ? { maxCount: Number(maxCount) } : {},
});
console.log(`RESULT ${rank} ${encode(result)}`);
