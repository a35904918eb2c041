package view

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshot = flag.String("screenshot", "", "also write the browser test's screenshot to this `file` (docs/viewer.png for the README)")

// chromium returns the Chromium binary: $TRACEGEN_CHROMIUM, else chromium
// on PATH. Under scripts/test (TRACEGEN_TOOL_CACHE set), which installs it,
// a missing Chromium fails the test; elsewhere it skips, naming the command.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRACEGEN_CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("TRACEGEN_TOOL_CACHE") != "" {
		t.Fatal("chromium is not on PATH, and TRACEGEN_TOOL_CACHE is set (so this runs under scripts/test, " +
			"which installs the Debian package chromium)")
	}
	t.Skip("no chromium: run ./scripts/test, or apt-get install chromium (or set TRACEGEN_CHROMIUM)")
	return ""
}

// TestBrowser opens the viewer in a real headless Chromium: the list shows
// the traces, a click on one draws its waterfall with the nested spans in
// order and the most expensive span marked, and a filter narrows the list.
// The screenshot goes to the test's artifact directory (go test -artifacts
// keeps it) and, with -screenshot, to a file.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	srv := newServer(t, 6)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	trace := "03" + strings.Repeat("0", 28) + "01" // the fourth run, session beta
	// run runs one action and fails the test on its error.
	step := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	str := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	num := func(js string) int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	step("open the page", chromedp.Navigate(srv.URL+"/"))
	step("wait for the page", chromedp.WaitVisible(`body[data-ready="true"]`))
	rows := num(`document.querySelectorAll("#traces tbody tr").length`)
	count := str("count", chromedp.Text(`#count`))
	if rows != 6 || !strings.HasPrefix(count, "6 traces match") {
		t.Errorf("list: %d rows, %q; want 6", rows, count)
	}
	step("pick a trace", chromedp.Click(`#traces tbody tr[data-trace="`+trace+`"]`))
	step("wait for the waterfall", chromedp.WaitVisible(`#waterfall .span.expensive`))
	if title := str("title", chromedp.Text(`#trace-title`)); !strings.Contains(title, trace) {
		t.Errorf("title %q does not name trace %s", title, trace)
	}
	spans := str("spans", chromedp.Evaluate[string](`[...document.querySelectorAll("#waterfall .span")].map(e => e.dataset.depth + ":" + e.dataset.name).join(" ")`))
	want := "0:agent.run 1:agent.plan 1:tool.search 2:tool.rank 1:tool.book 1:agent.answer"
	if spans != want {
		t.Errorf("waterfall:\n%s\nwant:\n%s", spans, want)
	}
	// Nesting is drawn: each level is indented further than its parent.
	indents := str("indents", chromedp.Evaluate[string](`[...document.querySelectorAll("#waterfall .span .name")].map(e => Math.round(e.getBoundingClientRect().left + parseFloat(getComputedStyle(e).paddingLeft))).join(" ")`))
	var x []int
	for _, f := range strings.Fields(indents) {
		n, _ := strconv.Atoi(f)
		x = append(x, n)
	}
	if len(x) != 6 || !(x[0] < x[1] && x[1] == x[2] && x[2] < x[3] && x[4] == x[1] && x[5] == x[1]) {
		t.Errorf("name indents %s: not nested as the depths", indents)
	}
	expensive := str("expensive", chromedp.Evaluate[string](`[...document.querySelectorAll("#waterfall .span.expensive")].map(e => e.dataset.name + (getComputedStyle(e.querySelector(".badge")).display !== "none" ? "+badge" : "")).join()`))
	if expensive != "tool.rank+badge" {
		t.Errorf("marked expensive: %q, want tool.rank with its badge", expensive)
	}
	// The energy bar of the expensive span is the widest.
	widest := str("bars", chromedp.Evaluate[string](`(() => { let best = "", w = -1; for (const e of document.querySelectorAll("#waterfall .span")) { const b = e.querySelector(".impact .energy").getBoundingClientRect().width; if (b > w) { w = b; best = e.dataset.name; } } return best; })()`))
	if widest != "tool.rank" {
		t.Errorf("widest energy bar on %s, want tool.rank", widest)
	}
	if failed := str("errors", chromedp.Evaluate[string](`[...document.querySelectorAll("#waterfall .span.error")].map(e => e.dataset.name).join()`)); failed != "tool.book" {
		t.Errorf("spans marked failed: %q, want tool.book", failed)
	}
	step("pick the LLM span", chromedp.Click(`#waterfall .span[data-name="agent.plan"]`))
	step("wait for its detail", chromedp.WaitVisible(`#span-detail`))
	detail := str("detail", chromedp.Text(`#span-detail`))
	for _, w := range []string{"gpt-4o-mini", "300 in, 80 out", "ecologits 0.6", "plan the trip", "search, then book"} {
		if !strings.Contains(detail, w) {
			t.Errorf("LLM span detail lacks %q:\n%s", w, detail)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	step("filter by session", chromedp.SetValue(`#filters input[name="session"]`, "beta"))
	step("submit", chromedp.Click(`#filters button[type="submit"]`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#count").textContent.startsWith("3 traces")`)); err != nil {
		t.Fatalf("filter: %v", err)
	}
	if n := num(`document.querySelectorAll("#traces tbody tr").length`); n != 3 {
		t.Errorf("session=beta lists %d traces, want 3", n)
	}
	out := filepath.Join(t.ArtifactDir(), "viewer.png")
	if err := os.WriteFile(out, png, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, png, 0o666); err != nil {
			t.Fatal(err)
		}
	}
}
