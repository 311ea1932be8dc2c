package socketio

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// clientFileTypes lists the browser client files a Node.js Socket.IO server serves, with their
// content types.
var clientFileTypes = map[string]string{
	"socket.io.js":             "application/javascript; charset=utf-8",
	"socket.io.min.js":         "application/javascript; charset=utf-8",
	"socket.io.js.map":         "application/json; charset=utf-8",
	"socket.io.min.js.map":     "application/json; charset=utf-8",
	"socket.io.esm.min.js":     "application/javascript; charset=utf-8",
	"socket.io.esm.min.js.map": "application/json; charset=utf-8",
}

// serveClientFile answers a request for one of the client files and reports whether it did.
func (srv *Server) serveClientFile(w http.ResponseWriter, r *http.Request) bool {
	name := path.Base(r.URL.Path)
	ctype, ok := clientFileTypes[name]
	if !ok || strings.Contains(r.URL.RawQuery, "EIO=") {
		return false
	}
	data, err := fs.ReadFile(srv.cfg.ClientFiles, name)
	if err != nil {
		http.Error(w, "the Socket.IO client bundle is not built: run 'make'", http.StatusNotFound)
		return true
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, name, srv.started, bytes.NewReader(data))
	return true
}
