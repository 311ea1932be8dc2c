// A Node.js Socket.IO node of the mixed cluster test: socket.io with @socket.io/redis-adapter on
// node-redis, remote-controlled over the line protocol that heraldnode (its Go twin) obeys too.
//
// Usage: node node-node.mjs <redis url> <node name>
//
// It listens on a free loopback port and prints {"ev":"ready","port":N}. Then the Go test writes
// commands on stdin, one JSON object per line, each with an "id"; the node answers each with one
// line {"id", "result"} or {"id", "error", "result"} (a partial result that came with the error).
// Binary values travel in both directions as {"$bin": "<base64>"}. Commands (a selector is
// "rooms" and "except", both optional lists of rooms):
//
//   emit {event, args, rooms, except}                 a broadcast
//   emitWithAck {event, args, rooms, except, timeoutMs}  result: the clients' answers
//   join {rooms, except, add} / leave {rooms, except, remove} / disconnect {rooms, except, close}
//   fetch {rooms, except}                             result: [{id, rooms, data, handshake}]
//   serverSideEmit {event, args}                      no answer expected from the other nodes
//   serverSideEmitWithAck {event, args}               result: the other nodes' answers
//   serverCount                                       result: a number
//   allRooms (this one only)                          result: every room of every node
//   serverEvents                                      result: the server-side events received
//                                                     [{event, args, ack}], oldest first
//
// Commands that act on sockets take "nsp", "/" by default, "local" (this node's sockets only) and "volatile"; the node serves "/" and "/admin".
// REQUESTS_TIMEOUT_MS bounds its requests to the other nodes; SPECIFIC_RESPONSE_CHANNEL=1 makes
// it answer on the requester's own response channel (publishOnSpecificResponseChannel).
//
// Each connecting client names itself with auth {name, rooms}: its socket joins rooms and its
// data becomes {name, node, kind: "node"}. A server-side event with an ack is answered with
// {node, event, args}. The process exits when stdin closes.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
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

if (!redisURL || !name) {
  fail("usage: node node-node.mjs <redis url> <node name>");
}

// The redis clients never give up reconnecting: the test restarts Redis under them.
const redisOptions = {
  url: redisURL,
  socket: { reconnectStrategy: (retries) => Math.min(50 + retries * 50, 500) },
};
const pubClient = createClient(redisOptions);
const subClient = pubClient.duplicate();
// Errors while Redis is away are expected; node-redis reconnects by itself.
pubClient.on("error", () => {});
subClient.on("error", () => {});
await Promise.all([pubClient.connect(), subClient.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(pubClient, subClient, {
    requestsTimeout: Number(process.env.REQUESTS_TIMEOUT_MS || 2000),
    publishOnSpecificResponseChannel: process.env.SPECIFIC_RESPONSE_CHANNEL === "1",
  }),
});

function onConnection(socket) {
  const auth = socket.handshake.auth || {};
  socket.data = { name: auth.name, node: name, kind: "node" };
  if (Array.isArray(auth.rooms)) {
    socket.join(auth.rooms);
  }
}
io.on("connection", onConnection);
io.of("/admin").on("connection", onConnection);

const serverEvents = [];
for (const event of ["ss", "ss2"]) {
  io.on(event, (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    serverEvents.push({ event, args: toWire(args), ack: ack !== null });
    if (ack) {
      ack({ node: name, event, args: toWire(args) });
    }
  });
}

function select(cmd) {
  let op = io.of(cmd.nsp || "/");
  if (cmd.rooms && cmd.rooms.length > 0) {
    op = op.in(cmd.rooms);
  }
  if (cmd.except && cmd.except.length > 0) {
    op = op.except(cmd.except);
  }
  if (cmd.local) {
    op = op.local;
  }
  if (cmd.volatile) {
    op = op.volatile;
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
    case "join":
      select(cmd).socketsJoin(cmd.add);
      return true;
    case "leave":
      select(cmd).socketsLeave(cmd.remove);
      return true;
    case "disconnect":
      select(cmd).disconnectSockets(!!cmd.close);
      return true;
    case "fetch": {
      const sockets = await select(cmd).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, handshake: s.handshake }));
    }
    case "serverSideEmit":
      io.serverSideEmit(cmd.event, ...fromWire(cmd.args || []));
      return true;
    case "serverSideEmitWithAck":
      return new Promise((resolve) => {
        io.serverSideEmit(cmd.event, ...fromWire(cmd.args || []), (err, responses) => {
          resolve({ error: err ? err.message : undefined, result: toWire(responses || []) });
        });
      });
    case "serverCount":
      return io.of("/").adapter.serverCount();
    case "allRooms":
      return [...(await io.of("/").adapter.allRooms())];
    case "serverEvents":
      return serverEvents;
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

serveCommands(run);

httpServer.listen(0, "127.0.0.1", () => {
  out({ ev: "ready", port: httpServer.address().port });
});
