# Herald: `make run` starts the chat server on http://localhost:3000; `make test` runs every test.
# Both install what they need first (npm packages for the client bundle and the interop tests,
# Chromium for the browser test, staticcheck).

GO          ?= go
NPM         ?= npm
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin/herald
CLIENT_DIST := web/node_modules/socket.io-client/dist
BUNDLE      := web/dist/socket.io.js web/dist/socket.io.min.js web/dist/socket.io.js.map web/dist/socket.io.min.js.map

.PHONY: all run build cluster test lint vet staticcheck gotest deps packages conformance bench bench-smoke bench-cluster fuzz soak clean

all: build

## run: build and start the chat server with its embedded defaults (http://localhost:3000)
run: build
	./$(BIN)

## build: the herald binary, with the official client bundle embedded
build: $(BUNDLE)
	$(GO) build -o $(BIN) ./cmd/herald

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	$(NPM) ci --prefix web --no-audit --no-fund

test/node_modules/.package-lock.json: test/package.json test/package-lock.json
	$(NPM) ci --prefix test --no-audit --no-fund

# The client bundle comes from the npm package at build time and is never committed.
$(BUNDLE) &: web/node_modules/.package-lock.json
	cp $(CLIENT_DIST)/socket.io.js $(CLIENT_DIST)/socket.io.min.js \
	   $(CLIENT_DIST)/socket.io.js.map $(CLIENT_DIST)/socket.io.min.js.map web/dist/

deps: $(BUNDLE) test/node_modules/.package-lock.json packages

# The Debian packages the tests run (each test starts its own instance on a free loopback port):
# Chromium for the browser tests, redis-server and HAProxy for the cluster tests, PostgreSQL for the
# store's second backend. Missing ones are installed in one apt-get run (as root, or install them
# yourself first).
APT_PACKAGES := chromium:chromium redis-server:redis-server haproxy:haproxy

## packages: install the Debian packages the tests need, when they are missing
# PostgreSQL's binaries are not on PATH in Debian: look for initdb where the package puts it.
packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  command -v $${p%%:*} >/dev/null 2>&1 || missing="$$missing $${p##*:}"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

## test: lint, then every Go test with the race detector (interop with the npm client and the
## headless-Chromium test included)
test: deps lint gotest

# The second run forces the portable engine path (no raw system calls, no epoll poller), as on
# macOS, for the library and the chat (not the Linux-only bench, nor the slow end-to-end tests).
gotest:
	$(GO) test -race -timeout 15m ./...
	$(GO) test -tags herald_portable -timeout 10m ./engineio/... ./socketio/... ./internal/... ./cmd/...

lint: vet staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

## cluster: Redis, three Herald servers and HAProxy on :3000 with sticky sessions (deploy/cluster.sh)
cluster: build
	bash deploy/cluster.sh

## conformance: start the server the official Engine.IO v4 / Socket.IO v5 compliance suites expect
conformance: build
	./$(BIN) conformance

## fuzz: run each fuzz target (FUZZTIME each, default 10m)
FUZZTIME ?= 10m
fuzz:
	$(GO) test ./engineio -run '^$$' -fuzz FuzzDecodePayload -fuzztime $(FUZZTIME)
	$(GO) test ./engineio -run '^$$' -fuzz FuzzWebSocketFrames -fuzztime $(FUZZTIME)
	$(GO) test ./engineio -run '^$$' -fuzz FuzzParseParams -fuzztime $(FUZZTIME)
	$(GO) test ./socketio -run '^$$' -fuzz FuzzDecodeText -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzDecodeMsgpack$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzPacketConversion$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzBroadcastMessage$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzRequest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzResponse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzHandshake$$' -fuzztime $(FUZZTIME)
	$(GO) test ./socketio/redisadapter -run '^$$' -fuzz '^FuzzShardedMessage$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/store/dburl -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./socketio -run '^$$' -fuzz FuzzDecodeBinarySequence -fuzztime $(FUZZTIME)
	$(GO) test ./internal/auth -run '^$$' -fuzz FuzzRequestCookies -fuzztime $(FUZZTIME)
	$(GO) test ./internal/web -run '^$$' -fuzz FuzzFormPost -fuzztime $(FUZZTIME)

## soak: churn of every kind, a slow reader under fan-out and a reconnect storm against a real
## herald process; fails when goroutines, fds, memory or the user count stay above their baseline
## (SOAKTIME: the churn phase, default 2m, about 5 minutes in all; SOAKCLIENTS: the storm, default 2000)
SOAKTIME    ?= 2m
SOAKCLIENTS ?= 2000
soak: $(BUNDLE) test/node_modules/.package-lock.json
	SOAKTIME=$(SOAKTIME) SOAKCLIENTS=$(SOAKCLIENTS) $(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 60m ./test/soak

## bench: the side-by-side benchmarks (Herald, Node Socket.IO, zishang520/socket.io); long
bench: build
	bash bench/run.sh

## bench-smoke: a ~10-second run of the benchmark harness, to keep it from rotting
bench-smoke: build
	bash bench/run.sh -smoke

## bench-cluster: Herald and Node on three nodes and a throwaway Redis, the chat on three app nodes, ~57,000 sockets (bench/README.md); ~40 min
bench-cluster: build
	bash bench/run.sh -peers herald,node -scenarios cluster,cluster-chat,cluster-max

clean:
	rm -rf bin web/dist/socket.io*
