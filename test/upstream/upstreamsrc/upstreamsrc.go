// Package upstreamsrc pins the exact refusals the oracles expect to the upstream source that
// produces them: a message is only ever written here after checking that it is a string literal
// in the named file of the module version go.mod selects (read from the Go module cache). A
// refusal is then asserted by equality with that message (or by the upstream error value, where
// the plugin keeps one), never by a substring another error could also contain.
package upstreamsrc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	mu   sync.Mutex
	dirs = map[string]string{}
)

// ModuleDir is the module cache directory of module at the version go.mod selects.
func ModuleDir(t testing.TB, module string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if d, ok := dirs[module]; ok {
		return d
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m %s: %v %s", module, err, stderr.String())
	}
	dirs[module] = dir
	return dir
}

// Literal returns text after checking that file (relative to the module root) of module holds it
// as a Go string literal ("..." as strconv.Quote writes it). Fails the test otherwise: an
// expectation that upstream does not produce is a typo, not a refusal.
func Literal(t testing.TB, module, file, text string) string {
	t.Helper()
	path := filepath.Join(ModuleDir(t, module), file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if !bytes.Contains(b, []byte(strconv.Quote(text))) {
		t.Fatalf("%s %s has no string literal %q: the expected refusal is not upstream's", module, file, text)
	}
	return text
}

// Format returns the message of fmt.Errorf(format, args...) (so %w wraps as upstream's does)
// after checking that format is a string literal of the file (as Literal does).
func Format(t testing.TB, module, file, format string, args ...any) string {
	t.Helper()
	return fmt.Errorf(Literal(t, module, file, format), args...).Error()
}
