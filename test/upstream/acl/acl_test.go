// Package acl lets Vault's own policy parser and ACL (github.com/hashicorp/vault, the version
// go.mod pins; see vaultacl/standin.go for how it is built) decide what each workload's token may
// do in the KV v2 mount, and what the operator's token may do for the Vault provider.
//
// The expectations come from what the user declared (settings.json: each workload's secrets,
// extra capabilities and grants), never from the policy text the program rendered.
package acl

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"aksvault/upstream/fixtures"
	"aksvault/upstream/vaultinputs"
)

// settings is the part of settings.json the ACL oracle reads.
type settings struct {
	KV struct {
		Path     string `json:"path"`
		External []struct {
			Path    string   `json:"path"`
			Readers []string `json:"readers"`
		} `json:"external"`
	} `json:"kv"`
	Workloads []workload `json:"workloads"`
}

type workload struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Secrets []struct {
		Path string `json:"path"`
		From string `json:"from"`
	} `json:"secrets"`
	Seed []struct {
		Path string `json:"path"`
	} `json:"seed"`
	ExtraCapabilities []string `json:"extraCapabilities"`
}

func (w workload) role() string {
	if w.Role != "" {
		return w.Role
	}
	return w.Name
}

// ops are the KV v2 API requests the matrix asks about, as Vault's router sees them (the HTTP
// layer turns LIST into a `list` operation on the path with a trailing slash, http/logical.go).
var ops = []struct {
	name      string
	operation string
	path      func(mount, p string) string
}{
	{"read", "read", func(m, p string) string { return m + "/data/" + p }},
	{"create", "create", func(m, p string) string { return m + "/data/" + p }},
	{"update", "update", func(m, p string) string { return m + "/data/" + p }},
	{"patch", "patch", func(m, p string) string { return m + "/data/" + p }},
	{"delete", "delete", func(m, p string) string { return m + "/data/" + p }},
	{"list", "list", func(m, p string) string { return m + "/metadata/" + p + "/" }},
	{"read-metadata", "read", func(m, p string) string { return m + "/metadata/" + p }},
	{"delete-metadata", "delete", func(m, p string) string { return m + "/metadata/" + p }},
	{"soft-delete-versions", "update", func(m, p string) string { return m + "/delete/" + p }},
	{"undelete", "update", func(m, p string) string { return m + "/undelete/" + p }},
	{"destroy", "update", func(m, p string) string { return m + "/destroy/" + p }},
}

// expected says whether a workload may perform op on KV path p, from what it declared: `read` on
// the paths its secrets name (its own, or granted with `from`) and the external paths it is a
// reader of; an extra capability (`extraCapabilities`) on its own secrets' paths only; nothing
// else (no metadata, no destroy, no other path).
func expected(s settings, w workload, op, p string) bool {
	own, granted := map[string]bool{}, map[string]bool{}
	for _, sec := range w.Secrets {
		if sec.From == "" || sec.From == w.Name {
			own[sec.Path] = true
		} else {
			granted[sec.Path] = true
		}
	}
	for _, e := range s.KV.External {
		if slices.Contains(e.Readers, w.Name) {
			granted[e.Path] = true
		}
	}
	switch op {
	case "read":
		return own[p] || granted[p]
	case "create", "update", "patch", "delete", "list":
		return own[p] && slices.Contains(w.ExtraCapabilities, op)
	}
	return false
}

// universe is every KV path any workload declares or seeds, plus neighbours a too-wide policy
// would reach: a longer name (a missing exact match), a child, the parent, another tenant's.
func universe(s settings) []string {
	set := map[string]bool{"other-tenant/secret": true}
	add := func(p string) {
		set[p] = true
		set[p+"x"] = true
		set[p+"/child"] = true
		if dir := path.Dir(p); dir != "." {
			set[dir] = true
		}
	}
	for _, w := range s.Workloads {
		for _, sec := range w.Secrets {
			add(sec.Path)
		}
		for _, seed := range w.Seed {
			add(seed.Path)
		}
	}
	for _, e := range s.KV.External {
		add(e.Path)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// stackPolicies are the policies a token can hold in this stack: the program's, and Vault's
// built-in `default` (from Vault's source).
func stackPolicies(t *testing.T, e *Engine, v fixtures.Vault) map[string]string {
	out := map[string]string{"default": e.DefaultPolicy}
	for _, p := range v.Policies {
		if p.Name == "default" || p.Name == "root" {
			t.Errorf("the program writes a policy named %q, which Vault reserves", p.Name)
		}
		out[p.Name] = p.Policy
	}
	return out
}

func TestWorkloadKVMatrix(t *testing.T) {
	e := vaultEngine(t)
	t.Logf("Vault's ACL from %s@%s", vaultModule, e.Version)
	for _, stack := range fixtures.Stacks(t) {
		t.Run(stack, func(t *testing.T) {
			s := fixtures.Load[settings](t, stack, "settings.json")
			v := fixtures.Load[fixtures.Vault](t, stack, "vault.json")
			raw := vaultinputs.LoadRaw(t, stack)
			policies := stackPolicies(t, e, v)
			var list []Policy
			for name, hcl := range policies {
				list = append(list, Policy{Name: name, HCL: hcl})
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })

			// The policies each workload's token holds: as its role grants them.
			tokenPolicies := map[string][]string{}
			for _, r := range append(raw.Roles, raw.JWTRoles...) {
				held := vaultinputs.Strings(r, "tokenPolicies")
				// Vault's token store adds `default` to every token unless the role opts out
				// (token_no_default_policy; vault/token_store.go).
				if r["tokenNoDefaultPolicy"] != true && !slices.Contains(held, "default") {
					held = append(held, "default")
				}
				tokenPolicies[vaultinputs.String(r, "roleName")] = held
			}
			mount := v.KVMount
			if mount != s.KV.Path {
				t.Fatalf("the program's KV mount %q is not the declared %q", mount, s.KV.Path)
			}
			paths := universe(s)

			type cell struct {
				w       workload
				op, p   string
				request Request
			}
			var cells []cell
			for _, w := range s.Workloads {
				held, ok := tokenPolicies[w.role()]
				if !ok {
					t.Fatalf("workload %s: no role %q is written", w.Name, w.role())
				}
				for _, name := range held {
					if _, ok := policies[name]; !ok {
						t.Errorf("workload %s: its role grants policy %q, which neither the program nor Vault defines", w.Name, name)
					}
				}
				for _, p := range paths {
					for _, op := range ops {
						cells = append(cells, cell{w, op.name, p, Request{Policies: held, Operation: op.operation, Path: op.path(mount, p)}})
					}
				}
			}
			if t.Failed() {
				return
			}
			requests := make([]Request, len(cells))
			for i, c := range cells {
				requests[i] = c.request
			}
			decisions, parseErrors := e.Decide(t, list, requests)
			for name, err := range parseErrors {
				t.Errorf("Vault refuses to parse policy %q: %s", name, err)
			}
			if len(parseErrors) > 0 {
				return
			}

			// The matrix, as Vault decided it, in the test log; a mismatch fails.
			reach := map[string][]string{}
			for i, c := range cells {
				got, want := decisions[i].Allowed, expected(s, c.w, c.op, c.p)
				if got {
					reach[c.w.Name] = append(reach[c.w.Name], fmt.Sprintf("%s %s", c.op, c.p))
				}
				if got != want {
					t.Errorf("workload %s: %s %s (%s %s): Vault says allowed=%v, declared=%v (granting %v)",
						c.w.Name, c.op, c.p, c.request.Operation, c.request.Path, got, want, decisions[i].Granting)
				}
			}
			for _, w := range s.Workloads {
				t.Logf("%s reaches: %s", w.Name, strings.Join(reach[w.Name], "; "))
				if len(reach[w.Name]) == 0 && len(w.Secrets) > 0 {
					t.Errorf("workload %s reaches nothing, though it declares secrets", w.Name)
				}
			}
			t.Logf("%d workloads x %d paths x %d operations decided by Vault's ACL", len(s.Workloads), len(paths), len(ops))
		})
	}
}

// The engine decides, it does not echo: a control with known answers from Vault's documented
// semantics (glob, `+` segment, deny over allow, list on the trailing-slash path, a bad
// capability refused by the parser).
func TestEngineControl(t *testing.T) {
	e := vaultEngine(t)
	policies := []Policy{
		{Name: "glob", HCL: `path "secret/data/team/*" { capabilities = ["read"] }`},
		{Name: "segment", HCL: `path "secret/data/+/db" { capabilities = ["read"] }`},
		{Name: "deny", HCL: `path "secret/data/team/locked" { capabilities = ["deny"] }`},
		{Name: "lister", HCL: `path "secret/metadata/team/" { capabilities = ["list"] }`},
	}
	cases := []struct {
		policies  []string
		operation string
		path      string
		want      bool
	}{
		{[]string{"glob"}, "read", "secret/data/team/a/b", true},
		{[]string{"glob"}, "update", "secret/data/team/a", false},
		{[]string{"glob"}, "read", "secret/data/teams", false},
		{[]string{"segment"}, "read", "secret/data/x/db", true},
		{[]string{"segment"}, "read", "secret/data/x/y/db", false},
		{[]string{"glob", "deny"}, "read", "secret/data/team/locked", false},
		{[]string{"lister"}, "list", "secret/metadata/team/", true},
		{[]string{"lister"}, "list", "secret/metadata/team/a/", false},
		{[]string{"default"}, "read", "auth/token/lookup-self", true},
		{[]string{"default"}, "read", "secret/data/team/a", false},
	}
	policies = append(policies, Policy{Name: "default", HCL: e.DefaultPolicy})
	requests := make([]Request, len(cases))
	for i, c := range cases {
		requests[i] = Request{Policies: c.policies, Operation: c.operation, Path: c.path}
	}
	decisions, parseErrors := e.Decide(t, policies, requests)
	if len(parseErrors) > 0 {
		t.Fatalf("control policies did not parse: %v", parseErrors)
	}
	for i, c := range cases {
		if decisions[i].Allowed != c.want {
			t.Errorf("%v %s %s: allowed=%v, want %v", c.policies, c.operation, c.path, decisions[i].Allowed, c.want)
		}
	}
	_, parseErrors = e.Decide(t, []Policy{{Name: "typo", HCL: `path "secret/data/x" { capabilities = ["reed"] }`}}, nil)
	if parseErrors["typo"] == "" {
		t.Errorf("Vault's parser accepted the capability \"reed\"")
	}
}
