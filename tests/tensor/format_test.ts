/**
 * How a tensor prints (`toString`, and so template strings and `String(t)`): integer dtypes
 * exactly, whatever their size (issue 21: `123456789` printed as `123457000`, PRNG keys
 * likewise); floats to 6 significant digits; bools as true/false.
 */
import assert from "node:assert/strict";
import { dispose, random, scope, tensor } from "../../mod.ts";

Deno.test("integer tensors print every digit", () => {
  scope(() => {
    const i = tensor([123456789, -2147483648, 2147483647], { dtype: "int32" });
    assert.equal(i.toString(), "Tensor([3], int32, cpu) [123456789,-2147483648,2147483647]");
    const u = tensor([[4000000000, 1], [16777217, 0]], { dtype: "uint32" });
    assert.equal(`${u}`, "Tensor([2,2], uint32, cpu) [[4000000000,1],[16777217,0]]");
    // More than 64 values: the first 8, still exact.
    const big = tensor(Array.from({ length: 100 }, (_, k) => 987654321 + k), { dtype: "int32" });
    assert.match(
      String(big),
      /^Tensor\(\[100\], int32, cpu\) \[987654321, 987654322, .*987654328, … \(100 values\)\]$/,
    );
  });
});

Deno.test("PRNG keys print the exact words their data holds", async () => {
  const k = random.key(123456789);
  const keys = random.splitKeys(k, 2);
  const k1 = keys[0];
  const words = [...await k1.data()];
  assert.ok(words.some((w) => w >= 1e6), `expected a large word in ${words}`);
  assert.equal(k1.toString(), `Tensor([2], uint32, cpu) [${words.join(",")}]`);
  assert.equal(String(k), "Tensor([2], uint32, cpu) [0,123456789]");
  dispose([k, keys]);
});

Deno.test("floats still print 6 significant digits, bools as words", () => {
  scope(() => {
    assert.equal(
      String(tensor([1 / 3, 2.5, 1e-7])),
      "Tensor([3], float32, cpu) [0.333333,2.5,1e-7]",
    );
    assert.equal(String(tensor([0.1], { dtype: "float64" })), "Tensor([1], float64, cpu) [0.1]");
    assert.equal(String(tensor([true, false])), "Tensor([2], bool, cpu) [true,false]");
  });
});
