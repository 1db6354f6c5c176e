/**
 * What each concern of the shared op suite (_op_suite.ts) needs: the backend, a test
 * registrar and a checker, plus the int32/uint32 tensor shorthands.
 * @module
 */
import * as T from "../../mod.ts";
import type { ExpectOpts } from "../_helpers.ts";

const { tensor } = T;

/** What a concern of the suite needs: the backend, a test registrar and a checker. */
export interface Ctx {
  backend: string;
  test(name: string, fn: () => Promise<void> | void, o?: { ignore?: boolean }): void;
  /** `expectT` with the suite's tolerance (`loose` multiplies it by 10). */
  ex(t: unknown, expected: T.NestedArray, o?: ExpectOpts & { loose?: boolean }): Promise<void>;
}

/** int32 / uint32 / bool tensors from nested arrays. */
export const i32 = (v: T.ArrayLike): T.Tensor => tensor(v, { dtype: "int32" });
export const u32 = (v: T.ArrayLike): T.Tensor => tensor(v, { dtype: "uint32" });
