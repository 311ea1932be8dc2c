// @socket.io/redis-emitter for the mixed cluster test: it publishes into the cluster as a
// program without a Socket.IO server would, remote-controlled like the nodes.
//
// Usage: node emitter.mjs <redis url>
//
// It prints {"ev":"ready"}, then answers each command line {"id", "op", ...} with {"id",
// "result"} once Redis has taken what the command published. Commands (a selector is "rooms" and
// "except"): emit {event, args}, join {add}, leave {remove}, disconnect {close},
// serverSideEmit {event, args}. Binary arguments are {"$bin": base64}. It exits when stdin closes.
import { createInterface } from "node:readline";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { fromWire } from "./wire.mjs";

const [redisURL] = process.argv.slice(2);
const client = createClient({ url: redisURL });
client.on("error", () => {});
await client.connect();
const emitter = new Emitter(client);

function run(cmd) {
  let op = emitter;
  if (cmd.rooms && cmd.rooms.length > 0) {
    op = op.in(cmd.rooms);
  }
  if (cmd.except && cmd.except.length > 0) {
    op = op.except(cmd.except);
  }
  const args = fromWire(cmd.args || []);
  switch (cmd.op) {
    case "emit":
      op.emit(cmd.event, ...args);
      break;
    case "join":
      op.socketsJoin(cmd.add);
      break;
    case "leave":
      op.socketsLeave(cmd.remove);
      break;
    case "disconnect":
      op.disconnectSockets(!!cmd.close);
      break;
    case "serverSideEmit":
      emitter.serverSideEmit(cmd.event, ...args);
      break;
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  if (line.trim() === "") {
    return;
  }
  const cmd = JSON.parse(line);
  try {
    run(cmd);
    // Commands on one connection run in order: once PING is answered, the publishes are done.
    await client.ping();
    process.stdout.write(JSON.stringify({ id: cmd.id, result: true }) + "\n");
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: cmd.id, error: String(err) }) + "\n");
  }
});
lines.on("close", () => process.exit(0));
process.stdout.write(JSON.stringify({ ev: "ready" }) + "\n");
