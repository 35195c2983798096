// Package chromium drives headless Chromium over the DevTools protocol, on
// a pipe (--remote-debugging-pipe: no port, no websocket, no library), for
// the tests of the HTML report and of the web UI: load a page, collect its
// console errors, evaluate JavaScript, take a screenshot. Debian's chromium
// package is what the tests use (reports/testdata/install-chromium.sh).
package chromium

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Find returns the path of a Chromium binary on PATH, or "".
func Find() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// Browser is one headless Chromium with one page. The browser reads
// NUL-terminated JSON commands on fd 3 and answers on fd 4.
type Browser struct {
	cmd     *exec.Cmd
	send    *os.File
	receive *os.File
	session string
	stderr  *bytes.Buffer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan message
	errs    []string
	loaded  chan struct{}
}

type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Width and Height are the page's viewport in CSS pixels.
const (
	Width  = 1280
	Height = 900
)

// Start starts bin with its profile in dir and opens a blank page.
func Start(ctx context.Context, bin, dir string) (*Browser, error) {
	toBrowser, send, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	receive, fromBrowser, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--remote-debugging-pipe", "about:blank")
	b := &Browser{cmd: cmd, send: send, receive: receive, stderr: &bytes.Buffer{}, pending: map[int]chan message{},
		loaded: make(chan struct{}, 1)}
	cmd.Stderr = b.stderr
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	go b.read()
	if err := b.open(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// open creates the page, attaches to it and sets its viewport.
func (b *Browser) open(ctx context.Context) error {
	var target struct{ TargetID string }
	if err := b.do(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return err
	}
	var attached struct{ SessionID string }
	if err := b.do(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return err
	}
	b.session = attached.SessionID
	for _, domain := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := b.do(ctx, b.session, domain, nil, nil); err != nil {
			return err
		}
	}
	return b.do(ctx, b.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": Width, "height": Height, "deviceScaleFactor": 1, "mobile": false}, nil)
}

// Close closes the browser, killing it if it does not exit promptly.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = b.call(ctx, "", "Browser.close", nil)
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		err = <-done
	}
	b.send.Close()
	b.receive.Close()
	return err
}

// Stderr is what the browser wrote to its standard error.
func (b *Browser) Stderr() string { return b.stderr.String() }

// read dispatches replies to callers and records console errors and load
// events of the page.
func (b *Browser) read() {
	in := bufio.NewReader(b.receive)
	for {
		raw, err := in.ReadBytes(0)
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.pending[m.ID]; ok && m.ID != 0 {
			delete(b.pending, m.ID)
			ch <- m
		} else if m.SessionID != "" && m.SessionID == b.session {
			b.event(m)
		}
		b.mu.Unlock()
	}
}

// event handles one page event; b.mu is held.
func (b *Browser) event(m message) {
	var p struct {
		Type string
		Args []struct {
			Value       any
			Description string
		}
		ExceptionDetails struct {
			Text      string
			Exception struct{ Description string }
		}
		Entry struct{ Level, Text, URL string }
	}
	_ = json.Unmarshal(m.Params, &p)
	switch m.Method {
	case "Runtime.consoleAPICalled":
		if p.Type == "error" || p.Type == "assert" {
			var parts []string
			for _, a := range p.Args {
				parts = append(parts, fmt.Sprint(a.Value)+a.Description)
			}
			b.errs = append(b.errs, "console."+p.Type+": "+strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		b.errs = append(b.errs, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
	case "Log.entryAdded":
		if p.Entry.Level == "error" {
			b.errs = append(b.errs, "log: "+p.Entry.Text+" "+p.Entry.URL)
		}
	case "Page.loadEventFired":
		select {
		case b.loaded <- struct{}{}:
		default:
		}
	}
}

func (b *Browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan message, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if _, err := b.send.Write(append(raw, 0)); err != nil {
		return nil, fmt.Errorf("%s: send: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// do calls method and decodes its result into result (unless nil).
func (b *Browser) do(ctx context.Context, session, method string, params, result any) error {
	raw, err := b.call(ctx, session, method, params)
	if err != nil {
		return err
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			return fmt.Errorf("%s: decode %s: %w", method, raw, err)
		}
	}
	return nil
}

// Load navigates to url, waits for its load event and returns the console
// errors the page logged meanwhile.
func (b *Browser) Load(ctx context.Context, url string) ([]string, error) {
	b.mu.Lock()
	b.errs = nil
	b.mu.Unlock()
	select {
	case <-b.loaded:
	default:
	}
	if err := b.do(ctx, b.session, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return nil, err
	}
	select {
	case <-b.loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("load %s: %w", url, ctx.Err())
	}
	// Errors raised by the last scripts may arrive just after the load
	// event; a round trip through the page flushes them.
	var ignored bool
	if err := b.Eval(ctx, `JSON.stringify(true)`, &ignored); err != nil {
		return nil, err
	}
	return b.ConsoleErrors(), nil
}

// ConsoleErrors returns the errors logged since the last Load: console
// errors, uncaught exceptions, and the browser's own log errors (a refused
// script or style, a failed request).
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// Eval runs a JavaScript expression that yields JSON text (or a promise of
// it) and decodes the JSON into out.
func (b *Browser) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result           struct{ Value string }
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	err := b.do(ctx, b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("evaluate: %s %s", e.Text, e.Exception.Description)
	}
	if err := json.Unmarshal([]byte(res.Result.Value), out); err != nil {
		return fmt.Errorf("evaluate: decode %q: %w", res.Result.Value, err)
	}
	return nil
}

// WaitFor evaluates expr (which yields JSON true or false) every 50 ms
// until it is true, or fails after timeout.
func (b *Browser) WaitFor(ctx context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := b.Eval(ctx, expr, &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s still not true after %s", expr, timeout), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Screenshot captures the whole page, beyond the viewport, as PNG.
func (b *Browser) Screenshot(ctx context.Context) ([]byte, error) {
	var metrics struct {
		CSSContentSize struct{ Width, Height float64 }
	}
	if err := b.do(ctx, b.session, "Page.getLayoutMetrics", nil, &metrics); err != nil {
		return nil, err
	}
	size := metrics.CSSContentSize
	var shot struct{ Data string }
	err := b.do(ctx, b.session, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": size.Width, "height": size.Height, "scale": 1},
	}, &shot)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return nil, fmt.Errorf("decode screenshot: %w", err)
	}
	return data, nil
}
