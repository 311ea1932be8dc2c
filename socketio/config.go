package socketio

import (
	"io/fs"
	"time"

	"github.com/herald-chat/herald/engineio"
)

// Config holds the settings of a Server. The zero value is usable: every zero field takes the
// default named on it, which matches the Node.js reference server.
type Config struct {
	// Engine configures the Engine.IO layer: heartbeat, maximum payload (maxHttpBufferSize,
	// default 1 MB), per-session send queue bound, allowed origins.
	Engine engineio.Config
	// ConnectTimeout is how long a new connection may take to join a namespace before it is
	// closed. Default 45s.
	ConnectTimeout time.Duration
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// MaxPendingEvents bounds the events received from one connection and not yet handled;
	// past it the server stops reading from that connection until its handlers catch up.
	// Default 256.
	MaxPendingEvents int
	// AdapterFactory makes the Adapter of each namespace. Default NewMemoryAdapter.
	AdapterFactory func(nsp *Namespace) Adapter
	// CleanupEmptyChildNamespaces removes a child of a ParentNamespace once its last socket has
	// left (a new client creates it again). Default false, as in Node.js.
	CleanupEmptyChildNamespaces bool
	// ClientFiles, when set, serves the official browser client: requests for
	// socket.io.js, socket.io.min.js and their .map files under the server's path are answered
	// from the top of this file system, as a Node.js Socket.IO server does.
	ClientFiles fs.FS
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 45 * time.Second
	}
	if c.MaxAttachments <= 0 {
		c.MaxAttachments = defaultMaxAttachments
	}
	if c.MaxPendingEvents <= 0 {
		c.MaxPendingEvents = 256
	}
	if c.AdapterFactory == nil {
		c.AdapterFactory = func(n *Namespace) Adapter { return NewMemoryAdapter(n) }
	}
	return c
}
