// Scenario: rooms. Four clients ask the server to join rooms (D joins "red" and leaves it again),
// then report every "msg" they receive until "end"; they answer a "roll-call" with their name.
import { io, url, out, once, mustConnect, finish } from "./lib.mjs";

const plan = { A: "red", B: "red", C: "blue", D: "red" };
const clients = Object.keys(plan).map((name) => {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  mustConnect(socket);
  socket.on("roll-call", (ack) => ack(name));
  const msgs = [];
  const end = new Promise((resolve) =>
    socket.on("msg", (m) => {
      msgs.push(m);
      if (m === "end") resolve();
    }),
  );
  return { name, socket, msgs, end, connected: once(socket, "connect") };
});

await Promise.all(clients.map((c) => c.connected));
for (const c of clients) {
  await c.socket.timeout(5000).emitWithAck("join", { name: c.name, room: plan[c.name] });
}
await clients[3].socket.timeout(5000).emitWithAck("leave", { room: "red" });
out("joined");

await Promise.all(clients.map((c) => c.end));
out("received", Object.fromEntries(clients.map((c) => [c.name, c.msgs])));
finish(...clients.map((c) => c.socket));
