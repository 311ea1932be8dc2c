// Scenario: heartbeat (args[0]: transport). The server pings every 100 ms; the client stays
// connected, on the same socket, across several pings while events flow.
import { io, url, args, out, once, fail, mustConnect, finish } from "./lib.mjs";

const socket = io(url, { transports: [args[0]], reconnection: false });
mustConnect(socket);
socket.on("disconnect", (reason) => fail(`disconnected: ${reason}`));
await once(socket, "connect");
const id = socket.id;

let pings = 0;
let acks = 0;
await new Promise((resolve) =>
  socket.io.engine.on("ping", () => {
    pings++;
    if (pings >= 6) resolve();
  }),
);
// Events keep flowing between pings.
for (let i = 0; i < 5; i++) {
  if ((await socket.timeout(5000).emitWithAck("echo", i)) === i) acks++;
}
out("heartbeat", { pings, acks, sameId: socket.id === id, connected: socket.connected });
socket.off("disconnect");
finish(socket);
