// Package acl lets Vault's own policy parser and ACL (github.com/hashicorp/vault, the version
// go.mod pins; see vaultacl/standin.go for how it is built) decide what each workload's token may
// do anywhere in Vault a policy could reach, and what the operator's token may do for the Vault
// provider.
//
// The expectations come from the stack file the user wrote (package stackfile: each workload's
// secrets, seeds, grants and extra capabilities, kv.external), read with a YAML parser here, and
// from Vault itself (what its built-in `default` policy grants), never from the policy text the
// program rendered nor from the program's own parse of the stack file.
package acl

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"aksvault/upstream/fixtures"
	"aksvault/upstream/stackfile"
	"aksvault/upstream/upstreamsrc"
	"aksvault/upstream/vaultinputs"
)

// kvOps are the KV v2 API requests the matrix asks about on a path inside the mount, as Vault's
// router sees them (the HTTP layer turns LIST into a `list` operation on the path with a trailing
// slash, http/logical.go; vault-plugin-secrets-kv serves data/, metadata/, delete/, undelete/,
// destroy/ and subkeys/).
var kvOps = []struct {
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
	{"write-metadata", "update", func(m, p string) string { return m + "/metadata/" + p }},
	{"patch-metadata", "patch", func(m, p string) string { return m + "/metadata/" + p }},
	{"delete-metadata", "delete", func(m, p string) string { return m + "/metadata/" + p }},
	{"soft-delete-versions", "update", func(m, p string) string { return m + "/delete/" + p }},
	{"undelete", "update", func(m, p string) string { return m + "/undelete/" + p }},
	{"destroy", "update", func(m, p string) string { return m + "/destroy/" + p }},
	{"read-subkeys", "read", func(m, p string) string { return m + "/subkeys/" + p }},
}

// kvExpected says whether a workload may perform op on KV path p, from what the stack file
// declares: `read` on the paths its secrets name (its own, or granted by their owner's
// `sharedWith` and named with `from`) and the kv.external paths naming it as a reader; an extra
// capability (`extraCapabilities`) on the paths it owns only (`list` on their metadata path);
// nothing else (no metadata, no destroy, no subkeys, no other path). A kv.external path is no
// workload's own, so no extra capability reaches it.
func kvExpected(f stackfile.File, w stackfile.Workload, op, p string) bool {
	readable := false
	for _, s := range w.Secrets {
		if s.Path != p {
			continue
		}
		if s.From == "" || s.From == w.Name {
			readable = true
		} else if owner, ok := f.Workload(s.From); ok && sharesWith(owner, p, w.Name) {
			readable = true
		}
	}
	external := false
	for _, e := range f.KV.External {
		if e.Path == p {
			// Written outside the program: no workload owns it (docs/security.md), whoever reads it.
			external = true
			readable = readable || slices.Contains(e.Readers, w.Name)
		}
	}
	switch op {
	case "read":
		return readable
	case "create", "update", "patch", "delete", "list":
		return readable && w.Owns(p) && !external && slices.Contains(w.ExtraCapabilities, op)
	}
	return false
}

// sharesWith: owner lists reader in `sharedWith` on its own secret or seed for path.
func sharesWith(owner stackfile.Workload, p, reader string) bool {
	for _, s := range owner.Seed {
		if s.Path == p && slices.Contains(s.SharedWith, reader) {
			return true
		}
	}
	for _, s := range owner.Secrets {
		if s.Path == p && (s.From == "" || s.From == owner.Name) && slices.Contains(s.SharedWith, reader) {
			return true
		}
	}
	return false
}

// kvPaths is every KV path any workload declares or seeds, plus neighbours a too-wide policy
// would reach: a longer name (a missing exact match), a child, the parent, another tenant's.
func kvPaths(f stackfile.File) []string {
	set := map[string]bool{"other-tenant/secret": true}
	add := func(p string) {
		set[p] = true
		set[p+"x"] = true
		set[p+"/child"] = true
		if dir := path.Dir(p); dir != "." {
			set[dir] = true
		}
	}
	for _, w := range f.Workloads {
		for _, sec := range w.Secrets {
			add(sec.Path)
		}
		for _, seed := range w.Seed {
			add(seed.Path)
		}
	}
	for _, e := range f.KV.External {
		add(e.Path)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// beyondKV are requests outside the KV paths of the stack, in every class a policy could reach:
// the system backend (policies, mounts, auth methods, audit, seal, raw storage, leases, tools,
// wrapping), auth methods (this stack's mount's config and roles, the token store), identity,
// cubbyhole, other secrets engines and other mounts, and the KV mount's own root, config and
// listing. No workload declares any of them: each must be exactly as Vault's `default` policy
// alone decides (the matrix compares with that).
func beyondKV(f stackfile.File, policyNames []string) []struct{ op, path string } {
	kv, auth := f.KV.Path, f.KubernetesAuth.Path
	out := []struct{ op, path string }{
		{"read", "sys/policies/acl"}, {"list", "sys/policies/acl/"},
		{"update", "sys/policies/acl/new-policy"}, {"update", "sys/policies/acl/default"}, {"update", "sys/policy/new-policy"},
		{"read", "sys/mounts"}, {"update", "sys/mounts/" + kv}, {"delete", "sys/mounts/" + kv}, {"update", "sys/mounts/other"},
		{"update", "sys/mounts/" + kv + "/tune"}, {"update", "sys/remount"},
		{"read", "sys/auth"}, {"update", "sys/auth/" + auth}, {"delete", "sys/auth/" + auth}, {"update", "sys/auth/other"},
		{"update", "sys/audit/file"}, {"update", "sys/seal"}, {"read", "sys/raw/logical"}, {"update", "sys/rotate"},
		{"update", "sys/leases/lookup"}, {"update", "sys/leases/revoke-prefix/" + kv}, {"update", "sys/capabilities-self"},
		{"read", "sys/internal/ui/mounts/" + kv}, {"read", "sys/internal/ui/resultant-acl"}, {"update", "sys/tools/hash"},
		{"update", "sys/wrapping/wrap"}, {"update", "sys/wrapping/unwrap"}, {"update", "sys/control-group/request"},
		{"read", "sys/namespaces"}, {"update", "sys/namespaces/other"},
		{"read", "auth/" + auth + "/config"}, {"update", "auth/" + auth + "/config"},
		{"list", "auth/" + auth + "/role/"}, {"read", "auth/" + auth + "/role/any"}, {"update", "auth/" + auth + "/role/any"},
		{"update", "auth/token/create"}, {"update", "auth/token/create-orphan"}, {"update", "auth/token/create/any"},
		{"read", "auth/token/lookup-self"}, {"update", "auth/token/renew-self"}, {"update", "auth/token/revoke-self"},
		{"update", "auth/token/lookup"}, {"list", "auth/token/accessors/"}, {"update", "auth/token/roles/any"},
		{"update", "auth/userpass/users/any"}, {"update", "auth/other/login"},
		{"update", "identity/entity"}, {"read", "identity/entity/id/any"}, {"update", "identity/group"},
		{"update", "identity/entity-alias"}, {"read", "identity/oidc/token/any"}, {"update", "identity/oidc/key/any"},
		{"read", "cubbyhole/any"}, {"create", "cubbyhole/any"}, {"update", "cubbyhole/any"}, {"delete", "cubbyhole/any"},
		{"list", "cubbyhole/"},
		{"read", "pki/issue/any"}, {"update", "pki/issue/any"}, {"read", "database/creds/any"}, {"update", "transit/encrypt/any"},
		{"read", "aws/creds/any"}, {"update", "ssh/sign/any"},
		{"read", kv + "/config"}, {"update", kv + "/config"}, {"list", kv + "/metadata/"}, {"read", kv + "/data/"},
		{"read", kv}, {"update", kv + "/data/new-secret"}, {"read", kv + "x/data/any"},
	}
	// The same KV paths in another mount: the stack's mount under another name, and the default one.
	for _, w := range f.Workloads {
		for _, s := range w.Secrets {
			for _, other := range []string{"secret", "kv", kv + "-other", "other"} {
				if other != kv {
					out = append(out, struct{ op, path string }{"read", other + "/data/" + s.Path}, struct{ op, path string }{"read", other + "/" + s.Path})
				}
			}
		}
	}
	// Each policy the stack writes: reading, rewriting or deleting it.
	for _, name := range policyNames {
		out = append(out, struct{ op, path string }{"read", "sys/policies/acl/" + name},
			struct{ op, path string }{"update", "sys/policies/acl/" + name}, struct{ op, path string }{"delete", "sys/policies/acl/" + name})
	}
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

func TestWorkloadACLMatrix(t *testing.T) {
	e := vaultEngine(t)
	t.Logf("Vault's ACL from %s@%s", vaultModule, e.Version)
	for _, stack := range fixtures.Stacks(t) {
		t.Run(stack, func(t *testing.T) {
			f := stackfile.Load(t, stack)
			pulumiStack := stackfile.PulumiStack(t, stack)
			v := fixtures.Load[fixtures.Vault](t, stack, "vault.json")
			raw := vaultinputs.LoadRaw(t, stack)
			policies := stackPolicies(t, e, v)
			var list []Policy
			var names []string
			for name, hcl := range policies {
				list = append(list, Policy{Name: name, HCL: hcl})
				names = append(names, name)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
			sort.Strings(names)

			// The policies each workload's token holds: as its role grants them, plus `default`,
			// which Vault's token store adds unless the role opts out (token_no_default_policy).
			tokenPolicies := map[string][]string{}
			for _, r := range append(raw.Roles, raw.JWTRoles...) {
				held := vaultinputs.Strings(r, "tokenPolicies")
				if r["tokenNoDefaultPolicy"] != true && !slices.Contains(held, "default") {
					held = append(held, "default")
				}
				tokenPolicies[vaultinputs.String(r, "roleName")] = held
			}
			mount := f.KV.Path
			if v.KVMount != mount {
				t.Errorf("the program's KV mount is %q; the stack file says %q", v.KVMount, mount)
			}
			paths := kvPaths(f)

			type cell struct {
				w        stackfile.Workload
				op, path string
				kv       bool // a KV path of the matrix (else: beyond KV, judged against `default`)
				request  Request
			}
			var cells []cell
			for _, w := range f.Workloads {
				held, ok := tokenPolicies[w.RoleName()]
				if !ok {
					t.Fatalf("workload %s: no role %q is written", w.Name, w.RoleName())
				}
				// Every policy the token holds is the workload's own generated one, one it
				// declares in `policies`, or `default`.
				allowed := append(f.TokenPolicies(pulumiStack, w), "default")
				for _, name := range held {
					if _, ok := policies[name]; !ok {
						t.Errorf("workload %s: its role grants policy %q, which neither the program nor Vault defines", w.Name, name)
					}
					if !slices.Contains(allowed, name) {
						t.Errorf("workload %s: its role grants policy %q; the stack file allows only %v", w.Name, name, allowed)
					}
				}
				for _, name := range w.ExtraPolicies() {
					if name != "default" {
						t.Fatalf("workload %s declares policy %q, which this oracle cannot judge (only `default` is Vault's own)", w.Name, name)
					}
				}
				for _, p := range paths {
					for _, op := range kvOps {
						cells = append(cells, cell{w, op.name, p, true, Request{Policies: held, Operation: op.operation, Path: op.path(mount, p)}})
					}
				}
				for _, b := range beyondKV(f, names) {
					cells = append(cells, cell{w, b.op, b.path, false, Request{Policies: held, Operation: b.op, Path: b.path}})
				}
			}
			if t.Failed() {
				return
			}
			// Beyond the KV paths, a workload gets exactly what Vault's `default` policy gives any
			// token: the same requests, asked of a token holding `default` alone.
			requests := make([]Request, 0, 2*len(cells))
			for _, c := range cells {
				requests = append(requests, c.request)
			}
			for _, c := range cells {
				requests = append(requests, Request{Policies: []string{"default"}, Operation: c.request.Operation, Path: c.request.Path})
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
			beyond := 0
			for i, c := range cells {
				got := decisions[i].Allowed
				want := decisions[len(cells)+i].Allowed // what `default` alone allows
				if c.kv {
					want = kvExpected(f, c.w, c.op, c.path)
				} else {
					beyond++
				}
				if got && c.kv {
					reach[c.w.Name] = append(reach[c.w.Name], fmt.Sprintf("%s %s", c.op, c.path))
				}
				if got != want {
					why := "the stack file declares"
					if !c.kv {
						why = "Vault's default policy alone gives"
					}
					t.Errorf("workload %s: %s %s (%s %s): Vault says allowed=%v, %s %v (granting %v)",
						c.w.Name, c.op, c.path, c.request.Operation, c.request.Path, got, why, want, decisions[i].Granting)
				}
			}
			for _, w := range f.Workloads {
				t.Logf("%s reaches in %s: %s", w.Name, mount, strings.Join(reach[w.Name], "; "))
				if len(reach[w.Name]) == 0 && len(w.Secrets) > 0 {
					t.Errorf("workload %s reaches nothing, though it declares secrets", w.Name)
				}
			}
			t.Logf("%d workloads x (%d KV paths x %d operations + %d requests beyond KV) decided by Vault's ACL",
				len(f.Workloads), len(paths), len(kvOps), beyond/max(len(f.Workloads), 1))
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
	want := upstreamsrc.Format(t, vaultModule, "vault/policy.go", "failed to parse policy: %w",
		errors.New(upstreamsrc.Format(t, vaultModule, "vault/policy.go", "path %q: invalid capability %q", "secret/data/x", "reed")))
	if got := parseErrors["typo"]; got != want {
		t.Errorf("Vault's parser on the capability \"reed\": %q, want exactly %q", got, want)
	}
}
