// Scenario: volatile emits (args[0]: transport). Reports the "v" sequence numbers and the number
// of "vb" broadcasts received before "end".
import { io, url, args, out, once, mustConnect, finish } from "./lib.mjs";

const socket = io(url, { transports: [args[0]] });
mustConnect(socket);
const got = [];
let vb = 0;
socket.on("v", (n) => got.push(n));
socket.on("vb", () => vb++);
const end = once(socket, "end");

await once(socket, "connect");
socket.emit("ready");
await end;
out("volatile", { got, vb });
finish(socket);
