/**
 * Under mpirun: rank 1 fails (`throw` = an uncaught error from a timer, `reject` = an
 * unhandled rejection) while rank 0 waits in a collective that can never complete.
 */
import { initMpi } from "../../distributed/mod.ts";

const coll = initMpi();
if (coll.rank === 1) {
  // A marker that rank 1 got this far (launchers may drop the output of a rank they kill).
  if (Deno.args[1]) Deno.writeTextFileSync(Deno.args[1], "rank 1 fails now");
  if (Deno.args[0] === "reject") Promise.reject(new Error("rejected in rank 1"));
  else {setTimeout(() => {
      throw new Error("thrown in rank 1");
    }, 100);}
} else {
  coll.allReduceSum(new Float32Array([1]));
  console.log("rank 0 finished: the test failed");
}
