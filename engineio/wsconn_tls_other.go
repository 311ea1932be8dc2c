//go:build !linux || herald_portable

package engineio

import (
	"net"
	"time"
)

// tlsRecords is Linux-only (it reads and writes the raw descriptor); elsewhere a WebSocket over
// TLS reads on a goroutine of its own and writes from the session's flush goroutine, like any
// connection without a poller. c.tlsRaw stays nil, so none of the methods below is called.
type tlsRecords struct{}

func (c *wsConn) attachTLS(net.Conn)                        {}
func (c *wsConn) drainTLS() bool                            { return false }
func (c *wsConn) readReadyTLS()                             {}
func (c *wsConn) blockingReadsTLS()                         {}
func (c *wsConn) writeNowTLS([][]byte) ([]byte, error)      { return nil, nil }
func (c *wsConn) writeAllTLS([][]byte, time.Duration) error { return nil }
func (c *wsConn) writeTLS([]byte, time.Duration)            {}
func (c *wsConn) dropTLSWrites()                            {}
