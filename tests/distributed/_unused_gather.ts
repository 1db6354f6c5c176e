/** A replica that breaks the SPMD rule: only rank 0's loss uses the gathered value. */
import { grad } from "../../autodiff/mod.ts";
import { allGather, type Collectives } from "../../distributed/mod.ts";
import { mul, sum, type Tensor, tensor } from "../../tensor/mod.ts";

/** Rank 1 skips the backward reduceScatterSum that rank 0 waits in. */
export default function unused(coll: Collectives): number[] {
  const g = grad((x: Tensor) => {
    const all = allGather(coll, x);
    return coll.rank === 0 ? sum(mul(all, all)) : sum(mul(x, 3));
  })(tensor([1, 2]));
  return [...g.dataSync()];
}
