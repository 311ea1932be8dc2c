//go:build !linux || herald_portable

package engineio

import "errors"

// poller is Linux-only (and left out with the herald_portable tag); elsewhere every WebSocket connection reads on a goroutine of its own.
type poller struct{}

func newPoller() (*poller, error) { return nil, errors.New("engineio: no poller on this platform") }

func (p *poller) add(*wsConn) error { return errors.New("engineio: no poller") }
func (p *poller) rearm(*wsConn)     {}
func (p *poller) remove(*wsConn)    {}
func (p *poller) close()            {}

// readNow is never called here: without a poller, nothing calls readReady.
func (c *wsConn) readNow([]byte) (int, error) { return 0, errors.New("engineio: no poller") }

// tryWritev writes nothing here: the session's flush goroutine writes, blocking.
func (c *wsConn) tryWritev([][]byte) (int, error) { return 0, nil }

// tryWrite writes nothing here, like tryWritev.
func (c *wsConn) tryWrite([]byte) (int, error) { return 0, nil }
