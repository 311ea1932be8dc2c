package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// views holds one parsed template set per page, each the layout plus that
// page's blocks. Immutable after parseViews.
type views struct {
	home, profile, chat *template.Template
}

func parseViews() (*views, error) {
	parse := func(page string) (*template.Template, error) {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+page)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", page, err)
		}
		return t, nil
	}
	var v views
	var err error
	if v.home, err = parse("home.html"); err != nil {
		return nil, err
	}
	if v.profile, err = parse("profile.html"); err != nil {
		return nil, err
	}
	if v.chat, err = parse("chat.html"); err != nil {
		return nil, err
	}
	return &v, nil
}

// homeData fills home.html.
type homeData struct {
	Error      string // shown in the error area
	Form       string // "login" or "register": the form to refill
	Username   string // what was typed, to refill
	CSRF       string
	GitHub     bool
	SignedInAs string
}

// userData fills profile.html and chat.html.
type userData struct {
	Username string
}

// render executes t into a buffer first, so a template error becomes a
// clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, t *template.Template, status int, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		h.log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry per-user content and CSRF tokens: never cache them.
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
