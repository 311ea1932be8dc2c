package socketio

import "encoding/json"

// RemoteSocket is a socket as FetchSockets reports it, on this server or on another one of the
// cluster: a snapshot of its id, handshake, rooms and data, and the means to act on it through the
// adapter. It is safe for concurrent use.
type RemoteSocket struct {
	// ID is the socket's id.
	ID string
	// Handshake is how its connection was opened.
	Handshake Handshake
	// Rooms are the rooms it was in, its own id room included.
	Rooms []string
	// Data is its application data: the value given to SetData for a socket of this server; for
	// one of another server, that value as it came through JSON (map[string]any, float64, …).
	Data any

	nsp   *Namespace
	local bool
}

// NewRemoteSocket describes a socket of another server of the cluster, for an adapter answering
// FetchSockets.
func NewRemoteSocket(nsp *Namespace, id string, hs Handshake, rooms []string, data any) *RemoteSocket {
	return &RemoteSocket{ID: id, Handshake: hs, Rooms: rooms, Data: data, nsp: nsp}
}

// IsLocal reports whether the socket is on this server.
func (r *RemoteSocket) IsLocal() bool { return r.local }

// DecodeData decodes Data into dst with encoding/json rules, whichever server the socket is on.
func (r *RemoteSocket) DecodeData(dst any) error {
	b, err := json.Marshal(r.Data)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// operator is a broadcast aimed at this socket alone.
func (r *RemoteSocket) operator() *BroadcastOperator {
	b := r.nsp.To(r.ID)
	if r.local {
		b = b.Local()
	}
	return b
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.operator().Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) { r.operator().SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.operator().SocketsLeave(rooms...) }

// Disconnect disconnects the socket, and with closeConn closes its connection too.
func (r *RemoteSocket) Disconnect(closeConn bool) { r.operator().DisconnectSockets(closeConn) }
