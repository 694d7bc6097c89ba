package acl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"aksvault/upstream/fixtures"
)

// providerCall is one entry of deploy/vault-provider-calls.json: an API call the Vault provider
// makes for one of the program's resource types, read from the provider's source by helper
// "deploy" (issue 11 item 1). Its `capabilities` are that helper's claim; this oracle asks Vault.
type providerCall struct {
	ID              string   `json:"id"`
	PulumiType      string   `json:"pulumiType"`
	Method          string   `json:"method"`
	Path            string   `json:"path"`
	Operation       string   `json:"operation"`
	Capabilities    []string `json:"capabilities"`
	Unauthenticated bool     `json:"unauthenticated"`
	Source          string   `json:"source"`
}

type registered struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Inputs map[string]any `json:"inputs"`
}

// Which input of the resource a placeholder of the call's path stands for.
var placeholderInputs = map[string][]string{
	"{authPath}":   {"backend", "path"},
	"{kvPath}":     {"mount", "path"},
	"{role}":       {"roleName"},
	"{policy}":     {"name"},
	"{secretPath}": {"name"},
}

func repoRoot(t *testing.T) string {
	t.Helper()
	gomod, err := goCmd(".", "env", "GOMOD")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(gomod)))
}

func loadCalls(t *testing.T) []providerCall {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "vault-provider-calls.json"))
	if err != nil {
		t.Fatalf("reading the provider's call list: %v", err)
	}
	var f struct {
		Calls []providerCall `json:"calls"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Calls) == 0 {
		t.Fatal("deploy/vault-provider-calls.json lists no calls")
	}
	return f.Calls
}

type expandedCall struct {
	providerCall
	path string
	// for logs: the resource it is made for
	resource string
}

// expand instantiates each call for every resource of its type the stack registers, filling the
// path's placeholders from that resource's inputs (and the stack's auth and KV mounts).
func expand(t *testing.T, calls []providerCall, resources []registered, authPath, kvPath string) []expandedCall {
	var out []expandedCall
	for _, c := range calls {
		for _, r := range resources {
			if r.Type != c.PulumiType {
				continue
			}
			path := c.Path
			for ph, keys := range placeholderInputs {
				if !strings.Contains(path, ph) {
					continue
				}
				value := ""
				switch ph {
				case "{authPath}":
					value = authPath
				case "{kvPath}":
					value = kvPath
				}
				for _, k := range keys {
					if s, ok := r.Inputs[k].(string); ok && s != "" && value == "" {
						value = s
					}
				}
				if value == "" {
					t.Fatalf("call %s: resource %s has no input for %s", c.ID, r.Name, ph)
				}
				path = strings.ReplaceAll(path, ph, value)
			}
			out = append(out, expandedCall{providerCall: c, path: path, resource: r.Name})
		}
	}
	return out
}

var pathBlock = regexp.MustCompile(`(?s)path "([^"]+)" \{.*?\n\}\n?`)

// withoutBlock removes one `path "<p>" { ... }` block from a policy.
func withoutBlock(policy, p string) string {
	return pathBlock.ReplaceAllStringFunc(policy, func(block string) string {
		if pathBlock.FindStringSubmatch(block)[1] == p {
			return ""
		}
		return block
	})
}

// TestOperatorPolicy: every API call the Vault provider makes for the stack's resources is allowed
// by the operator policy the program documents (deploy/vault-operator-policy.hcl for dev, the
// same renderer's output for every stack), with sudo where Vault's source requires it; no rule
// is superfluous (dropping any one refuses some call); nothing outside the stack is reachable.
func TestOperatorPolicy(t *testing.T) {
	e := vaultEngine(t)
	calls := loadCalls(t)
	shipped, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "vault-operator-policy.hcl"))
	if err != nil {
		t.Fatalf("reading the shipped operator policy: %v", err)
	}
	for _, stack := range fixtures.Stacks(t) {
		t.Run(stack, func(t *testing.T) {
			op := fixtures.Load[struct {
				Name   string `json:"name"`
				Policy string `json:"policy"`
			}](t, stack, "operator.json")
			if stack == "dev" && stripComments(op.Policy) != stripComments(string(shipped)) {
				t.Errorf("deploy/vault-operator-policy.hcl is not what the program renders for the dev stack")
			}
			st := fixtures.Load[fixtures.Stack](t, stack, "stack.json")
			v := fixtures.Load[fixtures.Vault](t, stack, "vault.json")
			resources := fixtures.Load[[]registered](t, stack, "resources.json")
			expanded := expand(t, calls, resources, st.Auth.Path, v.KVMount)
			if len(expanded) == 0 {
				t.Fatal("no provider call applies to the stack's resources")
			}

			var authenticated []expandedCall
			for _, c := range expanded {
				unauth := matchSpecial(e.UnauthenticatedPaths, c.path)
				if unauth != (c.Unauthenticated || len(c.Capabilities) == 0) {
					t.Errorf("call %s (%s %s): Vault's source says unauthenticated=%v, the call list says otherwise", c.ID, c.Method, c.path, unauth)
				}
				if unauth {
					continue
				}
				needsSudo := matchSpecial(e.RootPaths, c.path)
				if needsSudo != slices.Contains(c.Capabilities, "sudo") {
					t.Errorf("call %s (%s): Vault's source says sudo required=%v; the call list says %v", c.ID, c.path, needsSudo, c.Capabilities)
				}
				authenticated = append(authenticated, c)
			}

			decide := func(policy string, calls []expandedCall) []bool {
				requests := make([]Request, len(calls))
				for i, c := range calls {
					requests[i] = Request{Policies: []string{op.Name}, Operation: c.Operation, Path: c.path}
				}
				decisions, parseErrors := e.Decide(t, []Policy{{Name: op.Name, HCL: policy}}, requests)
				if len(parseErrors) > 0 {
					t.Fatalf("Vault refuses to parse the operator policy: %v", parseErrors)
				}
				out := make([]bool, len(calls))
				for i, c := range calls {
					out[i] = decisions[i].Allowed && (!matchSpecial(e.RootPaths, c.path) || decisions[i].RootPrivs)
				}
				return out
			}

			for i, ok := range decide(op.Policy, authenticated) {
				c := authenticated[i]
				if !ok {
					t.Errorf("operator policy refuses %s: %s %s (%s, for %s; %s)", c.ID, c.Operation, c.path, c.Method, c.resource, c.Source)
				}
			}
			t.Logf("%d provider calls for %d resources allowed by the operator policy", len(authenticated), len(resources))

			// Least privilege: each rule is needed by some call.
			blocks := pathBlock.FindAllStringSubmatch(op.Policy, -1)
			for _, b := range blocks {
				narrower := withoutBlock(op.Policy, b[1])
				refused := []string{}
				for i, ok := range decide(narrower, authenticated) {
					if !ok {
						refused = append(refused, authenticated[i].ID)
					}
				}
				if len(refused) == 0 {
					t.Errorf("the rule on %q is not needed by any provider call", b[1])
				} else {
					t.Logf("without %q: %s refused", b[1], strings.Join(slices.Compact(refused), ", "))
				}
			}
			// The two the issue names (issue 11 item 1): without them the provider fails at setup
			// and at the first auth backend read.
			for _, must := range []struct{ path, call string }{
				{"auth/token/create", "provider.child-token"},
				{"sys/mounts/auth/" + st.Auth.Path + "/tune", "tune-read"},
			} {
				narrower := withoutBlock(op.Policy, must.path)
				if narrower == op.Policy {
					t.Errorf("the operator policy has no rule on %s", must.path)
					continue
				}
				denied := false
				for i, ok := range decide(narrower, authenticated) {
					if !ok && strings.HasSuffix(authenticated[i].ID, must.call) {
						denied = true
					}
				}
				if !denied {
					t.Errorf("without %s, Vault still allows %s", must.path, must.call)
				}
			}
			// sudo is what lets it mount the auth method (sys/auth/* is root-protected).
			noSudo := strings.ReplaceAll(op.Policy, `, "sudo"`, "")
			denied := false
			for i, ok := range decide(noSudo, authenticated) {
				if !ok && strings.HasSuffix(authenticated[i].ID, ".enable") {
					denied = true
				}
			}
			if !denied {
				t.Errorf("without sudo, Vault still allows enabling the auth method")
			}

			// Nothing outside the stack's own paths.
			outside := []expandedCall{}
			for _, p := range []struct{ op, path string }{
				{"update", "sys/policies/acl/default"},
				{"update", "sys/policies/acl/root-equivalent"},
				{"update", "auth/token/create-orphan"},
				{"update", "auth/token/create/some-role"},
				{"update", "sys/auth/other"},
				{"update", "sys/mounts/other"},
				{"update", "sys/mounts/auth/other/tune"},
				{"read", v.KVMount + "/data/not-seeded"},
				{"list", v.KVMount + "/metadata/"},
				{"update", "auth/" + st.Auth.Path + "/role/not-ours"},
				{"update", "sys/audit/file"},
				{"update", "sys/remount"},
			} {
				outside = append(outside, expandedCall{providerCall: providerCall{ID: p.path, Operation: p.op}, path: p.path})
			}
			for i, ok := range decide(op.Policy, outside) {
				if ok {
					t.Errorf("the operator policy allows %s on %s, outside the stack", outside[i].Operation, outside[i].path)
				}
			}
		})
	}
}

// stripComments drops `#` comment lines and the blank lines around the header, leaving the rules
// as the renderer writes them.
func stripComments(hcl string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(hcl, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(line)
	}
	return strings.TrimLeft(b.String(), "\n")
}
