// Package web holds Herald's front-end files and embeds them into the
// binary: the chat room's own script and styles, and the official
// socket.io-client bundle.
//
// The bundle comes from npm (see package.json): the Makefile copies
// socket.io.js, socket.io.min.js and their source maps from node_modules
// into dist/. dist/ is git-ignored except for a placeholder, so the program
// builds before npm has run; ClientBundle is then simply empty.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

//go:embed all:dist
var dist embed.FS

// Static holds the chat room's own front-end files, client.js and
// style.css, at its top level. The HTTP handlers serve them under /public/.
var Static fs.FS = sub(static, "static")

// ClientBundle holds the official Socket.IO client bundle (socket.io.js,
// socket.io.min.js and their .map files) at its top level, once the
// Makefile has copied it from node_modules; it may hold only .gitkeep. The
// socket layer serves it under /socket.io/, as a Node server does.
var ClientBundle fs.FS = sub(dist, "dist")

// sub roots fsys at dir. The directories are fixed by the go:embed lines
// above, so a failure is a build mistake, not a run-time condition.
func sub(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("web: embedded directory " + dir + ": " + err.Error())
	}
	return s
}
