// Scenario: Server.Close. One client over WebSocket, one over long-polling; each reports its
// disconnect reason and then stops (no reconnection attempts against the closed server).
import { io, url, out, once, mustConnect, finish } from "./lib.mjs";

const clients = ["websocket", "polling"].map((transport) => {
  const socket = io(url, { transports: [transport], forceNew: true });
  mustConnect(socket);
  const disconnected = new Promise((resolve) =>
    socket.once("disconnect", (reason) => {
      socket.disconnect(); // no reconnection
      resolve(reason);
    }),
  );
  return { transport, socket, disconnected, connected: once(socket, "connect") };
});

await Promise.all(clients.map((c) => c.connected));
out("connected");
for (const c of clients) {
  out("disconnect", { transport: c.transport, reason: await c.disconnected });
}
finish(...clients.map((c) => c.socket));
