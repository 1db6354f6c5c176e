/**
 * Quickstart: tensors, a gradient, and a custom VJP checked with checkGrad. Runs from a
 * checkout (`deno run examples/quickstart.ts`) or by URL
 * (`deno run --allow-import=<host> https://<host>/examples/quickstart.ts`).
 * @module
 */
import { checkGrad, cos, customVjp, grad, mul, sin, sum, type Tensor, tensor } from "../mod.ts";

const x = tensor([1, 2, 3]);
// d/dx Σ x² = 2x
const g = grad((x: Tensor) => sum(mul(x, x)))(x);
console.log(`grad: [${[...(await g.data())].join(", ")}]`);

// A hand-written derivative for sin, verified numerically (JAX's method, in float64).
const mySin = customVjp(
  (x: Tensor) => sin(x),
  (x: Tensor) => [sin(x), x] as [Tensor, Tensor],
  (x: Tensor, ct: Tensor) => [mul(ct, cos(x))],
);
await checkGrad(mySin, [tensor([0.1, -0.7, 2.0])], { order: 2 });
console.log("checkGrad: custom sin VJP ok");
