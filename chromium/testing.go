package chromium

import (
	"context"
	"testing"
)

// MustStart starts a browser for a test and closes it when the test ends,
// logging the browser's stderr if the test failed. It skips the test in
// -short mode or when no Chromium is installed.
func MustStart(tb testing.TB, ctx context.Context) *Browser {
	tb.Helper()
	if testing.Short() {
		tb.Skip("browser test skipped in -short mode")
	}
	bin := Find()
	if bin == "" {
		tb.Skip("chromium not found: install it with reports/testdata/install-chromium.sh (Debian package chromium)")
	}
	b, err := Start(ctx, bin, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = b.Close()
		if tb.Failed() {
			tb.Logf("chromium stderr:\n%s", b.Stderr())
		}
	})
	return b
}
