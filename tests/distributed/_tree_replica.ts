/** The fused tree collectives and the replica checksum, on every rank of a sim/mpi job. */
import {
  allReduceSumTree,
  broadcastTree,
  type Collectives,
  replicaChecksum,
} from "../../distributed/mod.ts";
import { dispose, tensor } from "../../tensor/mod.ts";

/** Sums a mixed-dtype tree, broadcasts rank 1's tree, then checks (and breaks) agreement. */
export default async function trees(coll: Collectives) {
  const r = coll.rank;
  const tree = {
    w: tensor([[r + 0.5, 2], [3, r]]),
    b: tensor(new Float64Array([r / 3])),
    n: tensor(new Int32Array([r + 1, 10])),
  };
  const summed = await allReduceSumTree(coll, tree);
  const bcast = await broadcastTree(coll, tree, 1);
  const out = {
    summed: {
      w: await summed.w.toArray(),
      b: await summed.b.toArray(),
      n: await summed.n.toArray(),
    },
    bcast: { w: await bcast.w.toArray(), b: await bcast.b.toArray(), n: await bcast.n.toArray() },
    agree: await replicaChecksum(coll, bcast),
    drift: await replicaChecksum(coll, tree).then(() => "no error", (e) => String(e.message)),
  };
  dispose([tree, summed, bcast]);
  return out;
}
