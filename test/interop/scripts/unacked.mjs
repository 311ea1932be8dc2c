// Scenario: the server waits for an ack (emitted from inside one of its event handlers) that
// never comes, and the client's connection goes away meanwhile.
import { io, url, out, once, finish } from "./lib.mjs";

const socket = io(url, { transports: ["websocket"], reconnection: false });
const question = once(socket, "question"); // received, and deliberately never acknowledged
await once(socket, "connect");
socket.emit("ask");
await question;
out("question");
socket.io.engine.close();
finish(socket);
