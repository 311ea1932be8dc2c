// Scenario: io.emit to many clients (args[0] of them, over WebSocket). Each counts "blast"
// events until "fin", which the server emits right after, so a duplicate would arrive first.
// Then the server polls them all with a broadcast that wants acks ("survey"): each answers with
// its index.
import { io, url, args, out, once, mustConnect, finish } from "./lib.mjs";

const n = Number(args[0]);
const clients = [];
for (let i = 0; i < n; i++) {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  mustConnect(socket);
  const c = { socket, count: 0, values: [], connected: once(socket, "connect"), fin: once(socket, "fin") };
  c.surveyed = new Promise((resolve) =>
    socket.on("survey", (ack) => {
      ack(i);
      resolve();
    }),
  );
  socket.on("blast", (v) => {
    c.count++;
    c.values.push(v);
  });
  clients.push(c);
}
await Promise.all(clients.map((c) => c.connected));
out("connected", { n });

await Promise.all(clients.map((c) => c.fin));
const histogram = {};
for (const c of clients) {
  histogram[c.count] = (histogram[c.count] || 0) + 1;
}
const badValues = clients.filter((c) => c.values.some((v) => v?.seq !== 1)).length;
out("result", { clients: clients.length, histogram, badValues });
await Promise.all(clients.map((c) => c.surveyed));
out("surveyed");
finish(...clients.map((c) => c.socket));
