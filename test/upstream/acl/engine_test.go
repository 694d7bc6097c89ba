package acl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// vaultModule is the module whose ACL judges the policies; its version is go.mod's.
const vaultModule = "github.com/hashicorp/vault"

// The files of Vault's `vault` package that are its policy parser and ACL (see vaultacl/standin.go).
var aclFiles = []string{"acl.go", "acl_util.go", "policy.go", "policy_util.go"}

// Engine is Vault's ACL, built from Vault's source into a small driver binary.
type Engine struct {
	bin string
	// DefaultPolicy is the text of the policy Vault creates as `default` (policy_store.go).
	DefaultPolicy string
	// Version is the Vault module version the engine was built from.
	Version string
	// RootPaths and UnauthenticatedPaths are the system backend's (sys/) and token store's
	// (auth/token/) PathsSpecial, read from Vault's source: sudo-only and token-less paths.
	RootPaths, UnauthenticatedPaths []string
}

// specialPaths reads PathsSpecial.Root and .Unauthenticated of the system backend
// (vault/logical_system.go) and the token store (vault/token_store.go), mounted at sys/ and
// auth/token/.
func specialPaths(dir string) (root, unauth []string, err error) {
	for file, prefix := range map[string]string{"logical_system.go": "sys/", "token_store.go": "auth/token/"} {
		lists, err := firstStringLists(filepath.Join(dir, "vault", file), "Root", "Unauthenticated")
		if err != nil {
			return nil, nil, err
		}
		if len(lists["Root"]) == 0 {
			return nil, nil, fmt.Errorf("no PathsSpecial.Root in vault/%s", file)
		}
		for _, p := range lists["Root"] {
			root = append(root, prefix+p)
		}
		for _, p := range lists["Unauthenticated"] {
			unauth = append(unauth, prefix+p)
		}
	}
	return root, unauth, nil
}

// firstStringLists finds, for each key, the first `Key: []string{"...", ...}` in a Go file.
func firstStringLists(file string, keys ...string) (map[string][]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok || !slices.Contains(keys, key.Name) || out[key.Name] != nil {
			return true
		}
		lit, ok := kv.Value.(*ast.CompositeLit)
		if !ok {
			return true
		}
		list := []string{}
		for _, e := range lit.Elts {
			if s, ok := e.(*ast.BasicLit); ok && s.Kind == token.STRING {
				v, _ := strconv.Unquote(s.Value)
				list = append(list, v)
			}
		}
		out[key.Name] = list
		return true
	})
	return out, nil
}

// matchSpecial is Vault's router match of a PathsSpecial entry: exact, or a prefix when the entry
// ends in '*' (vault/router.go pathsToRadix).
func matchSpecial(list []string, path string) bool {
	for _, p := range list {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(path, prefix) || p == path {
			return true
		}
	}
	return false
}

var (
	engineOnce sync.Once
	engine     *Engine
	engineErr  error
)

// vaultEngine builds the engine once per test binary: `go build -overlay` lays Vault's ACL files
// from the module cache into acl/vaultacl (nothing is copied into the repository), with the
// `vaultacl` tag that the stand-in and driver carry.
func vaultEngine(t testing.TB) *Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = buildEngine() })
	if engineErr != nil {
		t.Fatalf("building Vault's ACL engine: %v", engineErr)
	}
	return engine
}

func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

func buildEngine() (*Engine, error) {
	gomod, err := goCmd(".", "env", "GOMOD")
	if err != nil {
		return nil, err
	}
	root := filepath.Dir(gomod)
	// Download the module if this machine has not yet (go.sum verifies it).
	if _, err := goCmd(root, "mod", "download", vaultModule); err != nil {
		return nil, err
	}
	info, err := goCmd(root, "list", "-m", "-f", "{{.Dir}} {{.Version}}", vaultModule)
	if err != nil {
		return nil, err
	}
	dir, version, ok := strings.Cut(info, " ")
	if !ok || dir == "" {
		return nil, fmt.Errorf("%s is not in the module cache (go list said %q)", vaultModule, info)
	}
	tmp, err := os.MkdirTemp("", "vaultacl-")
	if err != nil {
		return nil, err
	}
	replace := map[string]string{}
	for _, f := range aclFiles {
		src := filepath.Join(dir, "vault", f)
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("%s@%s has no vault/%s: %v", vaultModule, version, f, err)
		}
		replace[filepath.Join(root, "acl", "vaultacl", f)] = src
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": replace})
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "vaultacl")
	if _, err := goCmd(root, "build", "-tags", "vaultacl", "-overlay", overlayFile, "-o", bin, "./acl/vaultacl/driver"); err != nil {
		return nil, err
	}
	def, err := constString(filepath.Join(dir, "vault", "policy_store.go"), "defaultPolicy")
	if err != nil {
		return nil, err
	}
	rootPaths, unauth, err := specialPaths(dir)
	if err != nil {
		return nil, err
	}
	return &Engine{bin: bin, DefaultPolicy: def, Version: version, RootPaths: rootPaths, UnauthenticatedPaths: unauth}, nil
}

// constString reads a string constant from a Go source file.
func constString(file, name string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		return "", err
	}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != name || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					return strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return "", fmt.Errorf("no string constant %s in %s", name, file)
}

// Policy is a named policy text.
type Policy struct {
	Name string `json:"name"`
	HCL  string `json:"hcl"`
}

// Request asks whether a token holding Policies may perform Operation on Path.
type Request struct {
	Policies  []string `json:"policies"`
	Operation string   `json:"operation"`
	Path      string   `json:"path"`
}

// Decision is Vault's answer to one Request.
type Decision struct {
	Allowed bool `json:"allowed"`
	// RootPrivs: the policies grant sudo on the path, which Vault's core requires on root-protected
	// paths (a backend's PathsSpecial.Root) on top of the capability.
	RootPrivs    bool     `json:"rootPrivs"`
	Capabilities []string `json:"capabilities"`
	Granting     []string `json:"granting"`
}

// Decide parses the policies with Vault's parser and asks Vault's ACL about each request.
// Policies Vault refuses to parse are returned in parseErrors (their requests are not asked).
func (e *Engine) Decide(t testing.TB, policies []Policy, requests []Request) (decisions []Decision, parseErrors map[string]string) {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"policies": policies, "requests": requests})
	cmd := exec.Command(e.bin)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Vault's ACL engine: %v\n%s", err, stderr.String())
	}
	var res struct {
		ParseErrors map[string]string `json:"parseErrors"`
		Decisions   []Decision        `json:"decisions"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decoding the engine's answer: %v", err)
	}
	if len(res.Decisions) != len(requests) && len(res.ParseErrors) == 0 {
		t.Fatalf("the engine answered %d of %d requests", len(res.Decisions), len(requests))
	}
	return res.Decisions, res.ParseErrors
}
