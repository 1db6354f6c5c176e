/**
 * Quickstart: create a tensor and read it back. Runs from a checkout
 * (`deno run examples/quickstart.ts`) or by URL (`deno run --allow-import=<host> <url>`).
 *
 * Placeholder body; to be replaced by the real quickstart (a gradient).
 *
 * @module
 */

import { tensor } from "../mod.ts";

const x = tensor([1, 2, 3]);
console.log(`x: [${[...(await x.data())].join(", ")}]`);
x.dispose();
