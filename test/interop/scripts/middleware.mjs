// Scenario: middleware. "/" refuses with a ConnectError carrying data, "/plain" with a plain Go
// error; "/auth" admits the client whose auth payload carries the right token.
import { io, url, out, once, fail, mustConnect, finish } from "./lib.mjs";

const main = io(url);
const plain = io(url + "/plain");
for (const s of [main, plain]) {
  s.on("connect", () => fail(`connected to ${s.nsp} despite the middleware`));
}
const authed = io(url + "/auth", { forceNew: true, auth: { token: "s3cret" }, query: { who: "node" } });
mustConnect(authed);

const [[mainErr], [plainErr]] = await Promise.all([once(main, "connect_error"), once(plain, "connect_error")]);
out("refused", {
  nsp: "/",
  message: mainErr.message,
  data: mainErr.data,
  active: main.active,
});
out("refused", {
  nsp: "/plain",
  message: plainErr.message,
  dataUndefined: plainErr.data === undefined,
  active: plain.active,
});
if (!authed.connected) {
  await once(authed, "connect");
}
out("admitted", { nsp: "/auth", id: authed.id });
finish(main, plain, authed);
