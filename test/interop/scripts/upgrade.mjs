// Scenario: default options (polling first, then the upgrade to WebSocket), events both ways.
// Numbered "tick" events flow from the moment of the connection until well after the upgrade,
// and the server echoes each as a "tock": none may be lost, duplicated or reordered across the
// switch of transports.
import { io, url, out, once, fail, mustConnect, finish } from "./lib.mjs";

const socket = io(url);
mustConnect(socket);
const welcome = once(socket, "welcome");
socket.io.once("open", () => out("open", { transport: socket.io.engine.transport.name }));
const tocks = [];
socket.on("tock", (n) => tocks.push(n));

await once(socket, "connect");
const engine = socket.io.engine;
out("connect", { id: socket.id, transport: engine.transport.name });

let sent = 0;
let upgradedAt = -1;
const ticking = new Promise((resolve) => {
  const timer = setInterval(() => {
    socket.emit("tick", sent++);
    if (upgradedAt >= 0 && sent >= upgradedAt + 20) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
if (engine.transport.name !== "websocket") {
  await once(engine, "upgrade");
}
upgradedAt = sent;
out("upgraded", { transport: engine.transport.name, ticksBefore: upgradedAt });
await ticking;

const serverCount = await socket.timeout(5000).emitWithAck("ticks-done", sent);
if (tocks.length < sent) {
  await new Promise((resolve) =>
    socket.on("tock", () => {
      if (tocks.length >= sent) resolve();
    }),
  );
}
const inOrder = tocks.every((n, i) => n === i);
if (!inOrder) fail(`tocks out of order: ${tocks.join(",")}`);
out("ticks", { sent, serverCount, tocks: tocks.length, inOrder });

socket.emit("hello", { from: "node", n: 1 });
const [msg] = await welcome;
out("welcome", { msg, transport: engine.transport.name });
finish(socket);
