// Scenario: the server disconnects the socket (Socket.Disconnect) while waiting for an ack.
import { io, url, out, once, mustConnect, finish } from "./lib.mjs";

const socket = io(url);
mustConnect(socket);
// Received, and deliberately never acknowledged.
socket.on("never-acked", () => out("never-acked"));
const disconnected = once(socket, "disconnect");
await once(socket, "connect");
out("connect", { id: socket.id });
const [reason] = await disconnected;
out("disconnect", { reason, active: socket.active });
finish(socket);
