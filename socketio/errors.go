package socketio

import "errors"

// Disconnect reasons, as passed to the handlers registered with Socket.OnDisconnect. They are
// the strings the Node.js server uses.
const (
	ReasonServerDisconnect  = "server namespace disconnect" // Socket.Disconnect was called
	ReasonClientDisconnect  = "client namespace disconnect" // the client left the namespace
	ReasonServerShutdown    = "server shutting down"        // Server.Close
	ReasonPingTimeout       = "ping timeout"                // the client stopped answering pings
	ReasonTransportClose    = "transport close"             // the connection was closed
	ReasonTransportError    = "transport error"             // the connection failed
	ReasonParseError        = "parse error"                 // the client sent an invalid packet
	ReasonForcedClose       = "forced close"                // the connection was closed by the server
	ReasonSendQueueOverflow = "send queue full"             // the client did not read fast enough
)

var (
	// ErrDisconnected is returned when emitting to, or waiting for an ack from, a socket that
	// is no longer connected.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrReservedEvent is returned when emitting an event whose name the protocol reserves.
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrAckUsed is returned by Event.Ack when the event has no ack callback or was already
	// acknowledged.
	ErrAckUsed = errors.New("socketio: no ack pending for this event")
)

// ConnectError refuses a connection from a middleware: the client's connect_error listener
// receives an Error whose message is Message and whose data is Data.
type ConnectError struct {
	Message string
	Data    any
}

// Error returns the message.
func (e *ConnectError) Error() string { return e.Message }
