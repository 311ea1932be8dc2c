package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"time"
)

// staticFiles serves the top-level regular files of an FS, read once at
// start-up. Only those: no directories, no listings, no path tricks.
// Immutable after loadStatic.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	content []byte
	etag    string
}

func loadStatic(fsys fs.FS) (*staticFiles, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read static files: %w", err)
	}
	s := &staticFiles{files: make(map[string]staticFile)}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read static file: %w", err)
		}
		sum := sha256.Sum256(b)
		s.files[e.Name()] = staticFile{content: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return s, nil
}

// serve answers GET /public/{file}. Embedded files have no modification
// time, so a content hash ETag lets browsers revalidate cheaply.
func (s *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	f, ok := s.files[name]
	if !ok {
		notFound(w, r)
		return
	}
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.content))
}
