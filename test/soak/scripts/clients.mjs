// Official socket.io-client sockets for the soak (test/soak): one Node process drives many.
//
// Usage: node clients.mjs <server url>, with a JSON job on stdin's first line:
//
//   {"mode":"churn","cookies":[...],"transports":["websocket"] | null,"loops":50,"ms":60000,
//    "sendEvery":5}
//       runs `loops` loops for `ms` milliseconds; each loop connects one socket with the next
//       cookie (no reconnection), sends a chat message on every sendEvery-th connect, then
//       disconnects after 0–200 ms, or at once on connect (before any upgrade), or right after
//       the handshake started (before connect). Then prints {"ev":"done",...counts} and exits.
//
//   {"mode":"hold","cookies":[...],"transports":null,"reconnect":true}
//       connects one socket per cookie with the client's own reconnection and backoff, prints
//       {"ev":"connected","n":N} once all are connected and every time all are connected again
//       after losing some, and counts chat messages by id. Further stdin lines:
//         {"op":"send","count":n,"gapMs":g,"text":t}  each socket sends n messages (t appended),
//                                            one every g ms, with
//                                            acks; then prints {"ev":"sent","acked":[ids...],
//                                            "refused":k}
//         {"op":"check","ids":[...]}         prints {"ev":"checked","missing":m,"sockets":k}:
//                                            how many (socket, id) pairs were not received,
//                                            over how many sockets, plus "connects" and
//                                            "connected"
//         {"op":"exit"}                      disconnects everything and exits.
//
// The process exits by itself after SOAK_CLIENT_TIMEOUT_MS (default 20 min), so a crashed test
// cannot leave it behind for long.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const url = process.argv[2];

function out(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

function fail(message) {
  out({ ev: "error", message: String(message) });
  process.exit(1);
}

process.on("uncaughtException", (err) => fail(err && err.stack ? err.stack : err));
process.on("unhandledRejection", (err) => fail(err && err.stack ? err.stack : err));

setTimeout(() => {
  out({ ev: "error", message: "clients.mjs watchdog expired" });
  process.exit(2);
}, Number(process.env.SOAK_CLIENT_TIMEOUT_MS || 20 * 60 * 1000)).unref();

function open(cookie, transports, reconnection) {
  const opts = {
    forceNew: true,
    reconnection,
    extraHeaders: { Cookie: `herald_session=${cookie}` },
    timeout: 20000,
  };
  if (transports) {
    opts.transports = transports;
  }
  return io(url, opts);
}

// describe names an error of the client's transports with what is known of its cause (the
// HTTP status of a failed poll, the system error under a failed request).
function describe(err) {
  const parts = [err.message];
  const d = err.description;
  if (d !== undefined) {
    parts.push(d && d.message ? d.message : String(d));
  }
  if (err.context && err.context.status !== undefined) {
    parts.push(`status ${err.context.status}`);
  }
  return parts.join(": ");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function churn(job) {
  const counts = { connects: 0, errors: 0, sent: 0, accepted: 0, refused: 0, early: 0, instant: 0 };
  const deadline = Date.now() + job.ms;
  let next = 0;
  async function loop() {
    while (Date.now() < deadline) {
      const i = next++;
      const cookie = job.cookies[i % job.cookies.length];
      const socket = open(cookie, job.transports, false);
      const style = i % 10;
      if (style === 0) {
        // Gone while the handshake is still under way.
        counts.early++;
        await sleep(Math.random() * 20);
        socket.disconnect();
        continue;
      }
      const ok = await new Promise((resolve) => {
        socket.once("connect", () => resolve(true));
        socket.once("connect_error", () => resolve(false));
      });
      if (!ok) {
        counts.errors++;
        socket.disconnect();
        await sleep(100);
        continue;
      }
      counts.connects++;
      if (style === 1) {
        counts.instant++; // before the upgrade to WebSocket can finish
        socket.disconnect();
        continue;
      }
      if (job.sendEvery && i % job.sendEvery === 0) {
        counts.sent++;
        const reply = await socket.timeout(10000).emitWithAck("chat message", `soak ${i}`).catch(() => null);
        if (reply && reply.ok) {
          counts.accepted++;
        } else {
          counts.refused++;
        }
      }
      await sleep(Math.random() * 200);
      socket.disconnect();
    }
  }
  await Promise.all(Array.from({ length: job.loops }, loop));
  out({ ev: "done", ...counts });
  setTimeout(() => process.exit(0), 500).unref();
}

function hold(job, onLine) {
  const sockets = [];
  const received = []; // per socket: a Set of message ids
  let connected = 0;
  let connects = 0;
  let connectErrors = 0;
  let lastError = "";
  const disconnects = {}; // by reason
  const connectedAt = [];
  const pingTimeouts = []; // transport@seconds since connect, of each ping timeout
  let pings = 0;
  let announced = false;
  job.cookies.forEach((cookie, k) => {
    const socket = open(cookie, job.transports, job.reconnect !== false);
    received.push(new Set());
    socket.on("connect", () => {
      connects++;
      connected++;
      connectedAt[k] = Date.now();
      socket.io.engine.on("ping", () => {
        pings++;
      });
      if (connected === sockets.length && !announced) {
        announced = true;
        out({ ev: "connected", n: connected, connects });
      }
    });
    socket.on("disconnect", (reason, details) => {
      connected--;
      announced = false;
      disconnects[reason] = (disconnects[reason] || 0) + 1;
      if (reason === "ping timeout") {
        const t = socket.io.engine ? socket.io.engine.transport.name : "?";
        pingTimeouts.push(`${t}@${Math.round((Date.now() - connectedAt[k]) / 1000)}s`);
      }
      if (details) {
        lastError = `on disconnect: ${describe(details)}`;
      }
    });
    socket.on("connect_error", (err) => {
      connectErrors++;
      lastError = describe(err);
    });
    socket.on("chat message", (m) => received[k].add(m.id));
    sockets.push(socket);
  });
  // While not every socket is connected, say how far it got, for the test's error message.
  setInterval(() => {
    if (connected < sockets.length) {
      out({ ev: "progress", connected, connects, connectErrors, lastError, disconnects, pings, pingTimeouts: pingTimeouts.slice(-20) });
    }
  }, 10000).unref();

  async function send(cmd) {
    const acked = [];
    let refused = 0;
    await Promise.all(
      sockets.map(async (socket, k) => {
        for (let i = 0; i < cmd.count; i++) {
          const reply = await socket.timeout(10000).emitWithAck("chat message", `fan-out ${k}.${i} ${cmd.text || ""}`).catch(() => null);
          if (reply && reply.ok) {
            acked.push(reply.id);
          } else {
            refused++;
          }
          await sleep(cmd.gapMs);
        }
      }),
    );
    out({ ev: "sent", acked, refused });
  }

  onLine((cmd) => {
    switch (cmd.op) {
      case "send":
        send(cmd);
        break;
      case "check": {
        let missing = 0;
        let missingSockets = 0;
        for (const got of received) {
          const m = cmd.ids.filter((id) => !got.has(id)).length;
          missing += m;
          if (m > 0) {
            missingSockets++;
          }
        }
        out({ ev: "checked", missing, sockets: missingSockets, connects, connected });
        break;
      }
      case "exit":
        for (const socket of sockets) {
          socket.disconnect();
        }
        setTimeout(() => process.exit(0), 2000).unref();
        break;
      default:
        fail(`unknown op ${cmd.op}`);
    }
  });
}

// One reader for stdin: the first line is the job, the rest are commands for it.
let handler = null;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "") {
    return;
  }
  const msg = JSON.parse(line);
  if (handler) {
    handler(msg);
  } else if (msg.mode === "churn") {
    handler = () => {};
    churn(msg);
  } else if (msg.mode === "hold") {
    hold(msg, (h) => {
      handler = h;
    });
  } else {
    fail(`unknown mode ${msg.mode}`);
  }
});
lines.on("close", () => process.exit(0));
