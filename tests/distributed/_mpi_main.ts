/**
 * Runs a replica module under MPI through `runDistributed`: `mpirun -np N deno run -A
 * tests/distributed/_mpi_main.ts <module URL> [export] [input JSON] [maxCount]`. Each rank
 * prints its encoded result (see _encode.ts) as lines `RESULT <rank> <i>/<n> <piece>` of at most
 * 1,000 characters: two ranks' output reaches mpirun through separate pipes and only writes
 * below PIPE_BUF are atomic, so one long line per rank was seen interleaved with the other's.
 */
import { initMpi, parseDist } from "../../distributed/mod.ts";
import { encode } from "./_encode.ts";

const [module, exportName = "default", input = "null", maxCount] = Deno.args;
const spec = parseDist(undefined); // mpi: the launcher's variables are set
if (spec.engine !== "mpi") throw new Error(`not started by an MPI launcher: ${spec.engine}`);
const rank = Deno.env.get("OMPI_COMM_WORLD_RANK") ?? Deno.env.get("PMI_RANK");
// runDistributed's steps by hand, so that each rank prints before MPI_Finalize and a barrier
// keeps any rank from finalizing (and mpirun from tearing down output forwarding) before all
// have printed: on a loaded machine a line printed after Finalize was seen to go missing.
const mod = await import(module!);
const coll = initMpi(maxCount ? { maxCount: Number(maxCount) } : {});
const result = await mod[exportName](coll, JSON.parse(input));
const text = encode(result), PIECE = 1000, n = Math.max(1, Math.ceil(text.length / PIECE));
for (let i = 0; i < n; i++) {
  console.log(`RESULT ${rank} ${i}/${n} ${text.slice(i * PIECE, (i + 1) * PIECE)}`);
}
coll.barrier();
coll.close();
