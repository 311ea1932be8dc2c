// Scenario: one fixed transport (args[0]: "polling" or "websocket"). Emits, acks and binary
// payloads in both directions.
import { io, url, args, out, once, bin, mustConnect, finish } from "./lib.mjs";

const transport = args[0];
const socket = io(url, { transports: [transport] });
mustConnect(socket);

// Server → client: the Go test drives these once the socket is connected.
socket.on("question", (a, b, ack) => {
  out("question", { args: [a, b] });
  ack(a + b);
});
socket.on("bin-question", (buf, ack) => {
  out("bin-question", { buf: bin(buf) });
  ack(Buffer.from(buf).reverse());
});
socket.on("bin-down", (buf, obj) => {
  out("bin-down", { top: bin(buf), nested: bin(obj.inner), label: obj.label });
});
const serverDone = once(socket, "server-done");

await once(socket, "connect");
out("connect", { transport: socket.io.engine.transport.name });

// Client → server.
socket.emit("note", "fire and forget");
const sum = await socket.timeout(5000).emitWithAck("sum", 2, 3);
out("sum", { value: sum });
const upper = await new Promise((resolve) => socket.emit("upper", "abc", resolve));
out("upper", { value: upper });
const binAck = await socket
  .timeout(5000)
  .emitWithAck("bin-up", Buffer.from([0, 1, 2, 255]), { nested: new Uint8Array([9, 8, 7]), label: "x" });
out("bin-up-ack", { size: binAck.size, echo: bin(binAck.echo) });

await serverDone;
out("end", { transport: socket.io.engine.transport.name });
finish(socket);
