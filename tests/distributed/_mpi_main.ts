/**
 * Runs a replica module under MPI: `mpirun -np N deno run -A tests/distributed/_mpi_main.ts
 * <module URL> [export] [input JSON] [maxCount]`. Each rank prints one line
 * `RESULT <rank> <encoded result>` (see _encode.ts).
 */
import { initMpi } from "../../distributed/mpi.ts";
import { encode } from "./_encode.ts";

const [module, exportName = "default", input = "null", maxCount] = Deno.args;
const coll = initMpi(maxCount ? { maxCount: Number(maxCount) } : {});
const mod = await import(module!);
const result = await mod[exportName](coll, JSON.parse(input));
console.log(`RESULT ${coll.rank} ${encode(result)}`);
coll.close();
