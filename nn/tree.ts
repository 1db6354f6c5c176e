/**
 * Path-aware pytree mapping for optimizers and checkpoints; the implementation lives with the
 * other pytree utilities in autodiff/tree.ts.
 * @module
 */
export { treeMapWithPath } from "../autodiff/tree.ts";
