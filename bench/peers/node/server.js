// The Node Socket.IO peer of the Herald benchmark harness.
// It implements the bench protocol described in bench/PROTOCOL.md and nothing else.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const { Server } = require('socket.io');

function envInt(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v}: not an integer`);
  return n;
}

const port = envInt('BENCH_PORT', 3000);
const mode = process.env.BENCH_MODE || 'none';
if (!['none', 'tutorial', 'merged'].includes(mode)) {
  throw new Error(`BENCH_MODE=${mode}: want none, tutorial or merged`);
}

function notFound(req, res) {
  res.writeHead(404);
  res.end('Not Found');
}
// BENCH_TLS_CERT and BENCH_TLS_KEY (PEM files) serve HTTPS instead, with Node's own TLS.
const tlsCert = process.env.BENCH_TLS_CERT;
const tlsKey = process.env.BENCH_TLS_KEY;
const httpServer = tlsCert || tlsKey
  ? require('node:https').createServer({ cert: fs.readFileSync(tlsCert), key: fs.readFileSync(tlsKey) }, notFound)
  : http.createServer(notFound);
const io = new Server(httpServer, {
  path: '/socket.io/',
  serveClient: false,
  pingInterval: envInt('BENCH_PING_INTERVAL_MS', 25000),
  pingTimeout: envInt('BENCH_PING_TIMEOUT_MS', 20000),
});

let count = 0;
let pending = null;

function changed(delta) {
  count += delta;
  if (mode === 'tutorial') {
    // What the classic tutorial does: tell everyone on every change.
    io.emit('user count', count);
  } else if (mode === 'merged' && pending === null) {
    // Coalesce the changes of a 50 ms window into one emission of the latest value.
    pending = setTimeout(() => {
      pending = null;
      io.emit('user count', count);
    }, 50);
  }
}

io.on('connection', (socket) => {
  socket.on('fanout', (payload) => {
    io.emit('tick', payload);
  });
  socket.on('disconnect', () => changed(-1));
  changed(+1);
});

// BENCH_REDIS_URL makes the peer one node of a cluster: @socket.io/redis-adapter on that
// Redis (classic pub/sub), so that io.emit on any node reaches the clients of every node.
const redisURL = process.env.BENCH_REDIS_URL || '';

async function start() {
  if (redisURL !== '') {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url: redisURL });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on('error', (err) => console.error('redis:', err.message));
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  httpServer.listen(port, '127.0.0.1', () => {
    process.stdout.write(`READY ${port}\n`);
  });
}
start().catch((err) => {
  console.error(err);
  process.exit(1);
});

function shutdown() {
  if (pending !== null) clearTimeout(pending);
  io.close();
  httpServer.close();
  // Do not wait for idle keep-alive sockets.
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
