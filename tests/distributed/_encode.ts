/** Results of replicas as JSON with every typed array as the hex of its bytes (bit-exact). */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      return {
        type: v.constructor.name,
        hex: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
      };
    }
    return v;
  });
}
