// How the cluster test's Node programs carry values through their JSON line protocol.

// toWire and fromWire carry binary through JSON as {"$bin": base64}; fromWire also makes a Date
// of {"$date": ISO 8601 time}.
export function toWire(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
    return { $bin: Buffer.from(v).toString("base64") };
  }
  if (v instanceof ArrayBuffer) {
    return { $bin: Buffer.from(v).toString("base64") };
  }
  if (Array.isArray(v)) {
    return v.map(toWire);
  }
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      o[k] = toWire(x);
    }
    return o;
  }
  return v;
}

export function fromWire(v) {
  if (Array.isArray(v)) {
    return v.map(fromWire);
  }
  if (v !== null && typeof v === "object") {
    if (typeof v.$bin === "string" && Object.keys(v).length === 1) {
      return Buffer.from(v.$bin, "base64");
    }
    if (typeof v.$date === "string" && Object.keys(v).length === 1) {
      return new Date(v.$date);
    }
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      o[k] = fromWire(x);
    }
    return o;
  }
  return v;
}
