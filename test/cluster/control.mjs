// The control protocol the tests speak to a Node.js node: JSON lines, a command {id, op, ...} on
// stdin, an answer {id, result, error} or an event {ev, ...} on stdout.
import { createInterface } from "node:readline";

// out writes one line of the protocol.
export function out(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

// serveCommands answers every command line with what run(cmd) returns (or throws); a result of
// the form {result, error} carries both. The process exits when stdin closes.
export function serveCommands(run) {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    if (line.trim() === "") {
      return;
    }
    const cmd = JSON.parse(line);
    try {
      const r = await run(cmd);
      if (r !== null && typeof r === "object" && !Array.isArray(r) && "result" in r) {
        out({ id: cmd.id, result: r.result, error: r.error });
      } else {
        out({ id: cmd.id, result: r });
      }
    } catch (err) {
      out({ id: cmd.id, error: err && err.message ? err.message : String(err) });
    }
  });
  lines.on("close", () => process.exit(0));
}
