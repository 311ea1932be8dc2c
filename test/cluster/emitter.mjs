// One use of @socket.io/redis-emitter, for the mixed cluster test: it publishes one command into
// the cluster, as a program without a Socket.IO server would, and exits.
//
// Usage: node emitter.mjs <redis url> '<command>'
//
// Commands (JSON; a selector is "rooms" and "except"): emit {event, args}, join {add},
// leave {remove}, disconnect {close}, serverSideEmit {event, args}. Binary arguments are
// {"$bin": base64}. It prints {"ev":"done"} once the command is published.
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { fromWire } from "./wire.mjs";

const [redisURL, text] = process.argv.slice(2);
const cmd = JSON.parse(text);
const client = createClient({ url: redisURL });
await client.connect();
let op = new Emitter(client);
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
    new Emitter(client).serverSideEmit(cmd.event, ...args);
    break;
  default:
    throw new Error(`unknown op ${cmd.op}`);
}
// The publishes are queued on the connection: QUIT goes after them.
await client.quit();
process.stdout.write(JSON.stringify({ ev: "done" }) + "\n");
