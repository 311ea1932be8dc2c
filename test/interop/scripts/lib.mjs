// Helpers shared by the interop scripts. Every script takes the server URL as its first argument
// and reports what it observed on stdout, one JSON object per line, each with an "ev" field. It
// ends with a "done" line and exit status 0; any failure prints an "error" line and exits 1. The
// Go side (../interop_test.go) reads these lines and also kills the process on its own timeout.
import { io } from "socket.io-client";

export { io };

/** The server URL, e.g. http://127.0.0.1:40123. */
export const url = process.argv[2];
/** The arguments after the URL. */
export const args = process.argv.slice(3);

/** Prints one observation as a JSON line. */
export function out(ev, fields = {}) {
  process.stdout.write(JSON.stringify({ ev, ...fields }) + "\n");
}

/** Reports a failure and ends the process. */
export function fail(message) {
  out("error", { message: String(message) });
  process.exit(1);
}

process.on("unhandledRejection", (err) => fail(err && err.stack ? err.stack : err));
process.on("uncaughtException", (err) => fail(err && err.stack ? err.stack : err));

if (!url) {
  fail("usage: node <script>.mjs <server url> [args...]");
}

// The watchdog: a script that waits for something that never comes fails with a clear message
// rather than hanging until the Go side kills it.
const watchdogMs = Number(process.env.INTEROP_SCRIPT_TIMEOUT_MS || 20000);
const watchdog = setTimeout(() => fail(`script timed out after ${watchdogMs} ms`), watchdogMs);

/** Resolves with the arguments of the next `event` on `emitter`. */
export function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...a) => resolve(a)));
}

/** Describes a binary value for the Go side: its type and its bytes in hex. */
export function bin(value) {
  return {
    isBuffer: Buffer.isBuffer(value),
    hex: value instanceof Uint8Array ? Buffer.from(value).toString("hex") : null,
  };
}

/** Fails on the first connect_error of any of `sockets` (for scenarios that must connect). */
export function mustConnect(...sockets) {
  for (const s of sockets) {
    s.on("connect_error", (err) => fail(`connect_error on ${s.nsp}: ${err.message}`));
  }
}

/**
 * Disconnects `sockets`, prints the "done" line and lets the process end with status 0 once the
 * goodbyes are out: the Socket.IO disconnect and Engine.IO close packets (a POST over
 * long-polling) and the WebSocket close handshakes. Exiting at once would cut them off and leave
 * the server waiting for a client that is gone. Whatever still holds the event loop after a
 * moment (such as an idle keep-alive socket) does not delay the exit further.
 */
export function finish(...sockets) {
  for (const s of sockets) {
    s.disconnect();
  }
  out("done");
  clearTimeout(watchdog);
  setTimeout(() => process.exit(0), 2000).unref();
}
