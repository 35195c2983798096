package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"outerloop/results"
	"outerloop/web"
)

// ServeCommand serves the live web UI over a results database.
type ServeCommand struct {
	stdout, stderr io.Writer

	db          string
	addr        string
	allowRemote bool
}

func (c *ServeCommand) flags() *flag.FlagSet {
	fs := newFlagSet("serve")
	fs.StringVar(&c.db, "db", defaultDB, "results database to read (opened read-only)")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on; port 0 picks a free one")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow an --addr other machines can reach (there is no authentication)")
	return fs
}

// Usage prints the help.
func (c *ServeCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness serve [flags]

Serve opens the results database read-only and serves a web UI for it at
http://ADDR/, while 'harness run' processes go on writing to it: every
grid with its run counts and claim verdicts; a grid's runs table (sort,
filter, any config key as a column), the report's figures and the claims,
recomputed as runs finish; live training curves of several runs at once
(any metric, smoothing, log scale) and their inference-loop curves; one
run's config, provenance, metrics, checkpoint, attempts and failure; and
a comparison of runs from one grid or several. Pages update within about
two seconds of the database; everything is served from the binary, so it
works offline.

It listens on 127.0.0.1 only. There is no authentication, so an address
other machines can reach needs --allow-remote, and serve warns that anyone
who reaches it can read every config, metric and error message. Ctrl-C
stops it.

Examples:
  harness serve
  harness serve --db shards/merged.db --addr 127.0.0.1:9000
  ssh -L 8080:127.0.0.1:8080 cluster-login   # then open http://127.0.0.1:8080 here
`)
}

// Run serves until ctx is cancelled.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return badInputf("serve: takes no arguments (use --db)")
	}
	loopback, err := isLoopback(c.addr)
	if err != nil {
		return badInputf("serve: --addr %s: %v", c.addr, err)
	}
	if !loopback && !c.allowRemote {
		return badInputf("serve: --addr %s can be reached from other machines and the UI has no authentication; "+
			"pass --allow-remote to serve there anyway, or use an SSH tunnel to 127.0.0.1", c.addr)
	}
	if err := moveOldDefault(ctx, c.db, c.stderr); err != nil {
		return err
	}
	if _, err := os.Stat(c.db); err != nil {
		return badInputf("serve: no results database at %s (run a grid first, or pass --db)", c.db)
	}
	store, err := results.OpenReadOnly(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if !loopback {
		fmt.Fprintf(c.stderr, "harness: warning: serving %s on %s without authentication: anyone who can reach it can read every grid, config, metric and error message\n",
			c.db, ln.Addr())
	}
	return c.serve(ctx, ln, store, loopback)
}

// serve answers on ln until ctx is cancelled, then drains for a moment.
func (c *ServeCommand) serve(ctx context.Context, ln net.Listener, store *results.Store, loopback bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := web.Config{Store: store, Logf: func(format string, args ...any) {
		fmt.Fprintf(c.stderr, "harness: serve: "+format+"\n", args...)
	}}
	port := ln.Addr().(*net.TCPAddr).Port
	if loopback {
		cfg.Hosts = loopbackHosts(port)
	}
	h, err := web.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(c.stdout, "serving %s (read-only) at http://%s/ ; Ctrl-C stops\n", c.db, ln.Addr())
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// isLoopback reports whether addr's host is a loopback address or
// "localhost"; an empty host (":8080") listens everywhere.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	if host != "" && ip == nil {
		return false, fmt.Errorf("the host must be an IP address or localhost")
	}
	return ip != nil && ip.IsLoopback(), nil
}

// loopbackHosts are the Host headers a browser on this machine sends.
func loopbackHosts(port int) []string {
	var hosts []string
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		hosts = append(hosts, fmt.Sprintf("%s:%d", h, port))
	}
	return hosts
}
