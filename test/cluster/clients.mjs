// The official socket.io-client sockets of the mixed cluster test, remote-controlled.
//
// Usage: node clients.mjs
//
// The Go test writes commands on stdin, one JSON object per line:
//
//   {"op":"connect","name":"c1","url":"http://127.0.0.1:N/admin","rooms":["r1"]}
//       opens a socket (its own connection, no reconnection) that names itself with auth
//       {name, rooms}; the node puts it in rooms.
//   {"op":"exit"}   disconnects every socket and exits (so does the end of stdin).
//
// and reads what the sockets observe on stdout, one JSON object per line, each with "ev" and the
// socket's "name": connect {sid}, connect_error {message}, disconnect {reason}, and event {event,
// args} for every event a server sends (binary as {"$bin": base64}). An event that asks for an
// ack is answered with {client: name, event, blob: <bytes 0 1 254 255>}.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { toWire } from "./wire.mjs";

const sockets = new Map();

function out(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

function fail(message) {
  out({ ev: "fatal", message: String(message) });
  process.exit(1);
}

process.on("uncaughtException", (err) => fail(err && err.stack ? err.stack : err));
process.on("unhandledRejection", (err) => fail(err && err.stack ? err.stack : err));

function connect(cmd) {
  const name = cmd.name;
  if (sockets.has(name)) {
    fail(`socket ${name} already exists`);
  }
  const socket = io(cmd.url, {
    forceNew: true,
    reconnection: false,
    timeout: 10000,
    auth: { name, rooms: cmd.rooms || [] },
  });
  sockets.set(name, socket);
  socket.on("connect", () => out({ ev: "connect", name, sid: socket.id }));
  socket.on("connect_error", (err) => out({ ev: "connect_error", name, message: err.message }));
  socket.on("disconnect", (reason) => out({ ev: "disconnect", name, reason }));
  socket.onAny((event, ...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    out({ ev: "event", name, event, args: toWire(args) });
    if (ack) {
      // Binary in the answer too: between nodes it travels in msgpack (BROADCAST_ACK).
      ack({ client: name, event, blob: Buffer.from([0, 1, 254, 255]) });
    }
  });
}

function exit() {
  for (const socket of sockets.values()) {
    socket.disconnect();
  }
  setTimeout(() => process.exit(0), 500).unref();
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "") {
    return;
  }
  const cmd = JSON.parse(line);
  switch (cmd.op) {
    case "connect":
      connect(cmd);
      break;
    case "exit":
      exit();
      break;
    default:
      fail(`unknown op ${cmd.op}`);
  }
});
lines.on("close", exit);
out({ ev: "ready" });
