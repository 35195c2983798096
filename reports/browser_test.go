package reports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var screenshotCopy = flag.String("screenshot", "", "also write TestBrowser's screenshot to this path")

// TestBrowser loads a report in headless Chromium over the DevTools
// protocol (on a pipe, so no port and no websocket): no console errors, every
// figure laid out with its font, the sort script allowed by the page's CSP,
// and a full-page screenshot in the test's temp dir.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium not found: install it with reports/testdata/install-chromium.sh (Debian package chromium)")
	}
	dir := t.TempDir()
	rep := MustBuild(t, outerLoopFixture())
	report := filepath.Join(dir, "report.html")
	if err := rep.WriteHTML(report); err != nil {
		t.Fatal(err)
	}
	control := filepath.Join(dir, "control.html")
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><title>c</title><script>console.error("control error")</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startBrowser(t, ctx, bin, dir)

	// The control page proves console errors would be seen.
	if errs := b.load(t, ctx, control); len(errs) != 1 || !strings.Contains(errs[0], "control error") {
		t.Fatalf("control page errors=%q, want the one it logs", errs)
	}
	if errs := b.load(t, ctx, report); len(errs) != 0 {
		t.Fatalf("report logged console errors: %q", errs)
	}

	var figures []struct {
		W, H  float64
		Paths int
	}
	b.eval(t, ctx, `JSON.stringify(Array.from(document.querySelectorAll("figure svg")).map(s => {
		const r = s.getBoundingClientRect();
		return {W: r.width, H: r.height, Paths: s.querySelectorAll("path").length};
	}))`, &figures)
	if len(figures) != len(rep.Figures) {
		t.Fatalf("%d figures in the page, want %d", len(figures), len(rep.Figures))
	}
	for i, f := range figures {
		if f.W < 300 || f.H < 200 || f.Paths < 20 {
			t.Fatalf("figure %s laid out %vx%v with %d paths, want at least 300x200 and 20 paths", rep.Figures[i].Name, f.W, f.H, f.Paths)
		}
	}
	var fontLoaded bool
	b.eval(t, ctx, `document.fonts.ready.then(() => JSON.stringify(
		Array.from(document.fonts).some(f => f.family.includes("Liberation Serif") && f.status === "loaded")))`, &fontLoaded)
	if !fontLoaded {
		t.Fatalf("the embedded Liberation Serif font did not load")
	}

	shot := b.screenshot(t, ctx, filepath.Join(dir, "shot.png"))
	t.Logf("screenshot: %s", shot)
	if *screenshotCopy != "" {
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(*screenshotCopy, data, 0o644)
		}
		if err != nil {
			t.Fatalf("copy screenshot: %v", err)
		}
	}

	// Two clicks on the seed column sort it descending: the inline script
	// ran, so its CSP hash matches.
	var seeds string
	b.eval(t, ctx, `(() => {
		const table = document.getElementById("runs-table");
		const th = table.querySelectorAll("th")[1];
		th.click(); th.click();
		return JSON.stringify(th.getAttribute("aria-sort") + ":" + Array.from(table.tBodies[0].rows).map(r => r.cells[1].textContent).join(""));
	})()`, &seeds)
	if want := "descending:" + strings.Repeat("3", 8) + strings.Repeat("2", 8) + strings.Repeat("1", 8); seeds != want {
		t.Fatalf("after sorting by seed: %q, want %q", seeds, want)
	}
	if errs := b.consoleErrors(); len(errs) != 0 {
		t.Fatalf("console errors after interaction: %q", errs)
	}
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// browser is a headless Chromium driven over --remote-debugging-pipe: the
// browser reads NUL-terminated JSON commands on fd 3 and answers on fd 4.
type browser struct {
	send    *os.File
	session string
	stderr  *bytes.Buffer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	errs    []string
	loaded  chan struct{}
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startBrowser(t *testing.T, ctx context.Context, bin, dir string) *browser {
	t.Helper()
	toBrowser, send, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	receive, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--remote-debugging-pipe", "about:blank")
	b := &browser{send: send, stderr: &bytes.Buffer{}, pending: map[int]chan cdpMessage{}, loaded: make(chan struct{}, 1)}
	cmd.Stderr = b.stderr
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	go b.read(receive)
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = b.call(closeCtx, "", "Browser.close", nil)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		send.Close()
		receive.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", b.stderr.String())
		}
	})
	var target struct{ TargetID string }
	b.must(t, ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	b.must(t, ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	for _, domain := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		b.must(t, ctx, b.session, domain, nil, nil)
	}
	b.must(t, ctx, b.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	return b
}

// read dispatches replies to callers and records console errors and load
// events of our page.
func (b *browser) read(r *os.File) {
	in := bufio.NewReader(r)
	for {
		raw, err := in.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
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
func (b *browser) event(m cdpMessage) {
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

func (b *browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
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

func (b *browser) must(t *testing.T, ctx context.Context, session, method string, params, result any) {
	t.Helper()
	raw, err := b.call(ctx, session, method, params)
	if err != nil {
		t.Fatal(err)
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			t.Fatalf("%s: decode %s: %v", method, raw, err)
		}
	}
}

// load navigates to a file, waits for its load event and returns the console
// errors it logged.
func (b *browser) load(t *testing.T, ctx context.Context, path string) []string {
	t.Helper()
	b.mu.Lock()
	b.errs = nil
	b.mu.Unlock()
	select {
	case <-b.loaded:
	default:
	}
	b.must(t, ctx, b.session, "Page.navigate", map[string]any{"url": "file://" + path}, nil)
	select {
	case <-b.loaded:
	case <-ctx.Done():
		t.Fatalf("load %s: %v", path, ctx.Err())
	}
	// Errors raised by the last scripts may arrive just after the load
	// event; a round trip through the page flushes them.
	var ignored bool
	b.eval(t, ctx, `JSON.stringify(true)`, &ignored)
	return b.consoleErrors()
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// eval runs a JavaScript expression that yields JSON (or a promise of it)
// and decodes the JSON into out.
func (b *browser) eval(t *testing.T, ctx context.Context, expr string, out any) {
	t.Helper()
	var res struct {
		Result struct {
			Value string
		}
		ExceptionDetails *struct{ Text string }
	}
	b.must(t, ctx, b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluate: %s", res.ExceptionDetails.Text)
	}
	if err := json.Unmarshal([]byte(res.Result.Value), out); err != nil {
		t.Fatalf("evaluate: decode %q: %v", res.Result.Value, err)
	}
}

// screenshot captures the whole page as PNG into path.
func (b *browser) screenshot(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	var metrics struct {
		CSSContentSize struct{ Width, Height float64 }
	}
	b.must(t, ctx, b.session, "Page.getLayoutMetrics", nil, &metrics)
	size := metrics.CSSContentSize
	var shot struct{ Data string }
	b.must(t, ctx, b.session, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": size.Width, "height": size.Height, "scale": 1},
	}, &shot)
	data, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X < 1000 || got.Y < 2000 {
		t.Fatalf("screenshot %v, want the full page (≥ 1000×2000)", got)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(errors.Join(errors.New("write screenshot"), err))
	}
	return path
}
