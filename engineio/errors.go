package engineio

import (
	"net/http"
	"strconv"
)

// protocolError is one of the error answers the Engine.IO specification defines for HTTP requests.
type protocolError struct {
	code    int
	message string
	status  int
}

var (
	errTransportUnknown   = protocolError{0, "Transport unknown", http.StatusBadRequest}
	errSessionUnknown     = protocolError{1, "Session ID unknown", http.StatusBadRequest}
	errBadHandshakeMethod = protocolError{2, "Bad handshake method", http.StatusBadRequest}
	errBadRequest         = protocolError{3, "Bad request", http.StatusBadRequest}
	errForbidden          = protocolError{4, "Forbidden", http.StatusForbidden}
	errUnsupportedVersion = protocolError{5, "Unsupported protocol version", http.StatusBadRequest}
)

// write sends the error as the JSON body Node's server uses, so clients that parse it keep working.
func (e protocolError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	body := make([]byte, 0, 48+len(e.message))
	body = append(body, `{"code":`...)
	body = strconv.AppendInt(body, int64(e.code), 10)
	body = append(body, `,"message":`...)
	body = strconv.AppendQuote(body, e.message)
	body = append(body, '}')
	_, _ = w.Write(body)
}
