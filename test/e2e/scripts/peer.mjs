// A remote-controlled set of socket.io-client sockets for the end-to-end tests.
//
// Usage: node peer.mjs <server url>
//
// The Go test writes commands on stdin, one JSON object per line, and reads what the sockets
// observe on stdout, one JSON object per line. Every output line has "ev" and, for a socket's
// events, the socket's "name". Commands:
//
//   {"op":"connect","name":"a","cookie":"<herald_session value>","origin":"http://…",
//    "transports":["polling"]}
//       opens a new socket (its own Engine.IO connection, no reconnection); cookie, origin,
//       transports and url (another server than the one given on the command line) are optional. The cookie and origin travel as extra headers, which the Node
//       client sends on both transports.
//   {"op":"emit","name":"a","event":"chat message","args":["hi"],"ack":true,"tag":"t","repeat":1}
//       emits the event (repeat times, at once); with ack, each reply is reported as an "ack"
//       line carrying tag and the index i.
//   {"op":"close","name":"a"}      disconnects the socket.
//   {"op":"exit"}                  disconnects everything and exits.
//
// Output events: ready, connect {transport}, upgrade {transport}, connect_error {message, data},
// disconnect {reason}, "user count" / "user" / "chat message" / "history" {data},
// ack {tag, i, data | error}, closed, error {message}. The process exits by itself when stdin
// closes or after PEER_TIMEOUT_MS (default 60 s), so it can never outlive its test for long.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const url = process.argv[2];
const sockets = new Map();

function out(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

function fail(message) {
  out({ ev: "error", message: String(message) });
  process.exit(1);
}

process.on("uncaughtException", (err) => fail(err && err.stack ? err.stack : err));
process.on("unhandledRejection", (err) => fail(err && err.stack ? err.stack : err));

if (!url) {
  fail("usage: node peer.mjs <server url>");
}

const watchdog = setTimeout(() => {
  out({ ev: "error", message: "peer.mjs watchdog expired" });
  process.exit(2);
}, Number(process.env.PEER_TIMEOUT_MS || 60000));
watchdog.unref();

function connect(cmd) {
  const name = cmd.name;
  if (sockets.has(name)) {
    fail(`socket ${name} already exists`);
  }
  const extraHeaders = {};
  if (cmd.cookie) {
    extraHeaders.Cookie = `herald_session=${cmd.cookie}`;
  }
  if (cmd.origin) {
    extraHeaders.Origin = cmd.origin;
  }
  const opts = { forceNew: true, reconnection: false, extraHeaders, timeout: 10000 };
  if (cmd.transports) {
    opts.transports = cmd.transports;
  }
  const socket = io(cmd.url || url, opts);
  sockets.set(name, socket);
  // The upgrade to WebSocket may finish before the namespace's CONNECT arrives, so listen from
  // the moment the Engine.IO connection opens.
  socket.io.on("open", () => {
    socket.io.engine.on("upgrade", (t) => out({ ev: "upgrade", name, transport: t.name }));
  });
  socket.on("connect", () => out({ ev: "connect", name, transport: socket.io.engine.transport.name }));
  socket.on("connect_error", (err) => {
    out({ ev: "connect_error", name, message: err.message, data: err.data === undefined ? null : err.data });
  });
  socket.on("disconnect", (reason) => out({ ev: "disconnect", name, reason }));
  for (const event of ["user count", "user", "chat message", "history"]) {
    socket.on(event, (data) => out({ ev: event, name, data }));
  }
}

function emit(cmd) {
  const socket = sockets.get(cmd.name);
  if (!socket) {
    fail(`no socket ${cmd.name}`);
  }
  const repeat = cmd.repeat || 1;
  for (let i = 0; i < repeat; i++) {
    const args = cmd.args || [];
    if (!cmd.ack) {
      socket.emit(cmd.event, ...args);
      continue;
    }
    socket.timeout(10000).emit(cmd.event, ...args, (err, data) => {
      if (err) {
        out({ ev: "ack", name: cmd.name, tag: cmd.tag, i, error: err.message });
      } else {
        out({ ev: "ack", name: cmd.name, tag: cmd.tag, i, data });
      }
    });
  }
}

// exit disconnects every socket and lets Node end once the goodbyes are out: a polling socket's
// close packet is an HTTP request still in flight, and without it the server waits for the
// client's next poll. The unref'd timer only caps that wait.
function exit() {
  for (const socket of sockets.values()) {
    socket.disconnect();
  }
  setTimeout(() => process.exit(0), 2000).unref();
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
    case "emit":
      emit(cmd);
      break;
    case "close": {
      const socket = sockets.get(cmd.name);
      if (socket) {
        socket.disconnect();
      }
      out({ ev: "closed", name: cmd.name });
      break;
    }
    case "exit":
      exit();
      break;
    default:
      fail(`unknown op ${cmd.op}`);
  }
});
lines.on("close", exit);
out({ ev: "ready" });
