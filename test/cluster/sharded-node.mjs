// A Node.js Socket.IO node on the sharded adapter (createShardedAdapter of
// @socket.io/redis-adapter, Redis 7 SSUBSCRIBE/SPUBLISH), for sharded_test.go: a smaller twin of
// node-node.mjs speaking the same line protocol.
//
// Usage: node sharded-node.mjs <redis url> <node name>
//
// SUBSCRIPTION_MODE is the adapter's subscriptionMode (static, dynamic or dynamic-private).
// Commands: emit {event, args, rooms, except}, emitWithAck {event, args, rooms, timeoutMs},
// fetch {rooms}, serverSideEmitWithAck {event, args}, serverCount. Each connecting client names
// itself with auth {name, rooms}; a server-side event "ss" with an ack is answered with
// {node, args}.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { out, serveCommands } from "./control.mjs";
import { fromWire, toWire } from "./wire.mjs";

const [redisURL, name] = process.argv.slice(2);

function fail(message) {
  out({ ev: "fatal", message: String(message) });
  process.exit(1);
}

process.on("uncaughtException", (err) => fail(err && err.stack ? err.stack : err));
process.on("unhandledRejection", (err) => fail(err && err.stack ? err.stack : err));

const pubClient = createClient({ url: redisURL });
const subClient = pubClient.duplicate();
pubClient.on("error", () => {});
subClient.on("error", () => {});
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createShardedAdapter(pubClient, subClient, {
    subscriptionMode: process.env.SUBSCRIPTION_MODE || "dynamic",
  }),
});

io.on("connection", (socket) => {
  const auth = socket.handshake.auth || {};
  socket.data = { name: auth.name, node: name, kind: "node" };
  if (Array.isArray(auth.rooms)) {
    socket.join(auth.rooms);
  }
});
io.on("ss", (...args) => {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
  if (ack) {
    ack({ node: name, args: toWire(args) });
  }
});

function select(cmd) {
  let op = io.of("/");
  if (cmd.rooms && cmd.rooms.length > 0) {
    op = op.in(cmd.rooms);
  }
  if (cmd.except && cmd.except.length > 0) {
    op = op.except(cmd.except);
  }
  return op;
}

async function run(cmd) {
  switch (cmd.op) {
    case "emit":
      select(cmd).emit(cmd.event, ...fromWire(cmd.args || []));
      return true;
    case "emitWithAck":
      return new Promise((resolve) => {
        select(cmd)
          .timeout(cmd.timeoutMs || 2000)
          .emit(cmd.event, ...fromWire(cmd.args || []), (err, responses) => {
            resolve({ error: err ? err.message : undefined, result: toWire(responses || []) });
          });
      });
    case "fetch": {
      const sockets = await select(cmd).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data }));
    }
    case "serverSideEmitWithAck":
      return new Promise((resolve) => {
        io.serverSideEmit(cmd.event, ...fromWire(cmd.args || []), (err, responses) => {
          resolve({ error: err ? err.message : undefined, result: toWire(responses || []) });
        });
      });
    case "serverCount":
      return io.of("/").adapter.serverCount();
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

serveCommands(run);

httpServer.listen(0, "127.0.0.1", () => {
  out({ ev: "ready", port: httpServer.address().port });
});
