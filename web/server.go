package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"

	"outerloop/results"
)

// Config configures a Server.
type Config struct {
	// Store is the results database, best opened with
	// results.OpenReadOnly: the server never writes.
	Store *results.Store
	// Hosts, when not empty, are the only Host headers the server answers
	// (e.g. "127.0.0.1:8080", "localhost:8080"). A page on another site
	// whose DNS name is rebound to 127.0.0.1 then gets 403, not the
	// database.
	Hosts []string
	// Logf, when set, receives the errors the server answers with 500.
	Logf func(format string, args ...any)
}

// Server is the UI's HTTP handler.
type Server struct {
	store   *results.Store
	hosts   map[string]bool
	logf    func(format string, args ...any)
	reports *reportCache
	mux     *http.ServeMux
	stop    context.CancelFunc
	// configs caches flattened configs by run id: a run's id is the hash
	// of its config, so an entry is never stale, and decoding a thousand
	// configs is most of the cost of a grid page.
	configs sync.Map
}

// contentPolicy allows the server's own scripts, styles and fonts and
// nothing else: no inline or injected script can run, and the page cannot
// send data anywhere but back here. Inline styles are allowed because the
// report's SVG figures carry style attributes (as in the HTML report).
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// New returns a server for cfg. ctx bounds the background report builds;
// Close stops them.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("new web server: no results store")
	}
	ctx, stop := context.WithCancel(ctx)
	s := &Server{store: cfg.Store, hosts: map[string]bool{}, logf: cfg.Logf, mux: http.NewServeMux(), stop: stop}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	for _, h := range cfg.Hosts {
		s.hosts[strings.ToLower(h)] = true
	}
	s.reports = newReportCache(ctx, cfg.Store, s.logf)
	if err := s.routes(); err != nil {
		stop()
		return nil, err
	}
	return s, nil
}

// Close stops the background report builds and waits for them, so the
// store can be closed after it.
func (s *Server) Close() {
	s.stop()
	s.reports.wg.Wait()
}

func (s *Server) routes() error {
	for name := range pages {
		path := "/" + name
		if name == "grids" {
			path = "/{$}"
		}
		s.mux.HandleFunc("GET "+path, s.page(name))
	}
	static, err := staticHandler()
	if err != nil {
		return err
	}
	s.mux.Handle("GET /static/", static)
	s.mux.HandleFunc("GET /api/grids", s.apiGrids)
	s.mux.HandleFunc("GET /api/grid", s.apiGrid)
	s.mux.HandleFunc("GET /api/report", s.apiReport)
	s.mux.HandleFunc("GET /api/figure", s.apiFigure)
	s.mux.HandleFunc("GET /api/run", s.apiRun)
	s.mux.HandleFunc("GET /api/runs", s.apiRuns)
	s.mux.HandleFunc("GET /api/curves", s.apiCurves)
	s.mux.HandleFunc("GET /api/evals", s.apiEvals)
	return nil
}

// ServeHTTP answers a request with the security headers on every
// response, and only for the configured hosts.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if len(s.hosts) > 0 && !s.hosts[strings.ToLower(r.Host)] {
		http.Error(w, "unknown host: harness serve answers only on the address it listens on", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// notModified sets the response's ETag from stamp and reports whether the
// client already has it, having answered 304. Responses are revalidated on
// every poll (no-cache), never reused blind.
func notModified(w http.ResponseWriter, r *http.Request, stamp string) bool {
	etag := `"` + stamp + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	return false
}

// writeJSON answers v as JSON. encoding/json escapes <, > and & in
// strings, so even a client that mistook it for HTML would see no markup.
func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.logf("write response: %v", err)
	}
}

// fail answers an error as JSON: 404 for what is not in the database, 400
// for a bad request, 500 (logged) for anything else, and nothing to a
// client that has gone.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var bad badRequest
	switch {
	case errors.Is(err, context.Canceled):
		return // the client went away (a page navigated on); nobody reads the answer
	case errors.Is(err, results.ErrNotFound), errors.Is(err, errNoGrid):
		code = http.StatusNotFound
	case errors.Is(err, results.ErrAmbiguous), errors.As(err, &bad):
		code = http.StatusBadRequest
	default:
		s.logf("%v", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// badRequest is an error in the request's parameters.
type badRequest string

func (b badRequest) Error() string { return string(b) }

// errNoGrid is answered for a grid name the database does not hold.
var errNoGrid = errors.New("no such grid")

// required returns a query parameter that must be present.
func required(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", badRequest(fmt.Sprintf("missing parameter %q", name))
	}
	return v, nil
}

// num is a float that JSON can hold whatever its value: finite values as
// numbers, NaN and ±Inf as the strings "NaN", "Inf" and "-Inf", which the
// scripts show as text and leave out of plots.
type num float64

// MarshalJSON writes the number.
func (n num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}
