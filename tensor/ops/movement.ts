/**
 * Layout ops: reshape (free) and the explicit copies — permute, broadcast, slice, flip, pad,
 * concat, stack, split.
 * @module
 */
export * from "./reshaping.ts";
export * from "./slicing.ts";
export * from "./joining.ts";
