package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"codeberg.org/go-fonts/liberation/liberationserifregular"
)

// static holds the pages' scripts and styles; they are served from the
// binary, so the UI works offline and nothing is fetched from elsewhere.
//
//go:embed static
var static embed.FS

//go:embed page.html.tmpl
var pageTemplate string

var shell = template.Must(template.New("page").Parse(pageTemplate))

// pages are the pages with their default titles (the scripts set the
// title to what a page shows once its data arrives) and their own scripts,
// loaded after the shared ones.
var pages = map[string]struct {
	title   string
	scripts []string
}{
	"grids":   {"Grids", []string{"grids.js"}},
	"grid":    {"Grid", []string{"runstable.js", "grid.js"}},
	"run":     {"Run", []string{"run.js"}},
	"compare": {"Compare runs", []string{"compare.js"}},
}

// page serves one page's shell: the same HTML for every grid or run, with
// no data in it, so nothing from the database ever passes through markup.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		p := pages[name]
		err := shell.Execute(&buf, struct {
			Page, Title string
			Scripts     []string
		}{name, p.title, p.scripts})
		if err != nil {
			s.fail(w, fmt.Errorf("render page %s: %w", name, err))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(buf.Bytes())
	}
}

// staticHandler serves the embedded scripts and styles, and the font the
// report's figures are laid out with: gonum measures SVG text with Liberation
// Serif, and a browser that substitutes a wider font overlaps the labels.
func staticHandler() (http.Handler, error) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	started := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		if r.URL.Path == "/static/liberation-serif.ttf" {
			w.Header().Set("Content-Type", "font/ttf")
			http.ServeContent(w, r, "liberation-serif.ttf", started, bytes.NewReader(liberationserifregular.TTF))
			return
		}
		files.ServeHTTP(w, r)
	}), nil
}
