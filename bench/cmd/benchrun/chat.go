package main

import "errors"

// scenarioChat is the name the chat scenario will run under (-scenarios chat).
const scenarioChat = "chat"

// errChatNotReady is what -scenarios chat reports until the hook is written.
var errChatNotReady = errors.New("scenario chat: not implemented yet (TODO(bench) in bench/cmd/benchrun/chat.go)")

// chatCase is the hook for chat traffic through the real app.
//
// TODO(bench): chat traffic through the real app (cmd/herald), when it is
// ready. The plan:
//   - start `herald` with an empty SQLite file on a free port, pinned like the
//     peers (its Node counterpart is the classic Express + Passport +
//     Socket.IO tutorial app, which would become a fourth peer);
//   - register N users over HTTP (POST /register), keep each session cookie;
//   - have loadgen open one Socket.IO session per user with the cookie (the
//     client in bench/loadgen already speaks the protocol; it needs a
//     Cookie header in the handshake and an Origin-less request);
//   - each user sends `chat message` at a low rate with an ack; every client
//     stamps the `chat message` events it receives (the payload carries the
//     server's id and time; the sender's send time goes in the text);
//   - report: ack latency p50/p99, delivery latency p50/p99, lost messages,
//     server CPU per delivered message, RSS per user.
func chatCase(settings) (benchCase, error) {
	return benchCase{}, errChatNotReady
}
