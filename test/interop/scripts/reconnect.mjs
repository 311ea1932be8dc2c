// Scenario: the client's transport is killed (socket.io.engine.close()); the client reconnects by
// itself. args[0], when given, is the only transport allowed.
import { io, url, args, out, once, mustConnect, finish } from "./lib.mjs";

const opts = { reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 };
if (args[0]) {
  opts.transports = [args[0]];
}
const socket = io(url, opts);
mustConnect(socket);

await once(socket, "connect");
const first = socket.id;
out("connect", { id: first });

const disconnected = once(socket, "disconnect");
const reconnected = once(socket, "connect");
socket.io.engine.close();
const [reason] = await disconnected;
out("disconnect", { reason, active: socket.active });

await reconnected;
out("reconnect", { id: socket.id, recovered: socket.recovered === true });
finish(socket);
