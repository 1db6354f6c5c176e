/**
 * Subprocess for pool_surplus_test.ts: a tiny `maxPooledBytes` makes the pool give back
 * surplus buffers while commands that bind them are recorded but not yet submitted (the
 * situation that large activations hit on a real GPU). Prints the result or throws.
 * @module
 */
import * as T from "../../mod.ts";
import { destroyWebGPU, initWebGPU } from "../../tensor/webgpu/mod.ts";

await initWebGPU({ maxPooledBytes: 1024 });
T.setBackend("webgpu");
const x = T.ones([128, 128]);
let y = x;
for (let i = 0; i < 30; i++) {
  const z = T.scope(() => T.add(T.mul(y, 0.5), T.exp(T.neg(y))));
  if (y !== x) y.dispose();
  y = z;
}
console.log(`value ${(await y.data())[0]!.toFixed(4)}`);
await destroyWebGPU();
