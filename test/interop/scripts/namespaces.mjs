// Scenario: "/" and "/admin" multiplexed over one connection, events kept in their namespace;
// an unknown namespace is refused with "Invalid namespace".
import { io, url, out, once, fail, mustConnect, finish } from "./lib.mjs";

const main = io(url);
const admin = io(url + "/admin");
const bogus = io(url + "/nope");
mustConnect(main, admin);
bogus.on("connect", () => fail("connected to the unknown namespace /nope"));
const bogusError = once(bogus, "connect_error");

const news = { main: [], admin: [] };
main.on("news", (m) => news.main.push(m));
admin.on("news", (m) => news.admin.push(m));
const ends = [once(main, "end"), once(admin, "end")];

await Promise.all([once(main, "connect"), once(admin, "connect")]);
out("connect", { sameManager: main.io === admin.io });

const [err] = await bogusError;
out("bogus", { message: err.message });

const whoMain = await main.timeout(5000).emitWithAck("whoami");
const whoAdmin = await admin.timeout(5000).emitWithAck("whoami");
out("whoami", { main: whoMain, admin: whoAdmin });

main.emit("ready");
await Promise.all(ends);
out("news", news);
finish(main, admin, bogus);
