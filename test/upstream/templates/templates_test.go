// Package templates renders every template the injector put in each agent's config with Consul
// Template (github.com/hashicorp/consul-template, the library Vault Agent runs its templates
// with), against a KV v2 Vault API served on loopback that holds exactly what the program seeds.
package templates

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"aksvault/upstream/fixtures"
	"aksvault/upstream/injector"

	ctconfig "github.com/hashicorp/consul-template/config"
	ctlogging "github.com/hashicorp/consul-template/logging"
	"github.com/hashicorp/consul-template/manager"
	"github.com/hashicorp/vault-k8s/agent-inject/agent"
)

const token = "hvs.agent-auto-auth-token"

// Consul Template logs through the standard logger; errors only (a failure reaches ErrCh).
var quiet sync.Once

// fakeVault serves what the Vault API answers Consul Template for KV v2 reads: the mount lookup
// (sys/internal/ui/mounts, how it learns a mount is KV v2) and GET <mount>/data/<path>, in the
// namespace the program wrote the seeds into. It records every request.
type fakeVault struct {
	namespace string
	mounts    map[string]bool              // KV v2 mount paths
	data      map[string]map[string]string // "<mount>/<path>" -> data
	mu        sync.Mutex
	requests  []string
}

func newFakeVault(v fixtures.Vault) *fakeVault {
	f := &fakeVault{mounts: map[string]bool{v.KVMount: true}, data: map[string]map[string]string{}}
	if v.Provider.Namespace != nil {
		f.namespace = *v.Provider.Namespace
	}
	for _, s := range v.Seeds {
		f.mounts[s.Mount] = true
		f.data[s.Mount+"/"+s.Name] = s.Data
	}
	return f
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ns := r.Header.Get("X-Vault-Namespace")
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+" ns="+ns)
	f.mu.Unlock()
	reply := func(code int, body any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
	if r.Header.Get("X-Vault-Token") != token {
		reply(403, map[string]any{"errors": []string{"permission denied"}})
		return
	}
	// Enterprise namespaces: the mounts live in the namespace the program wrote them to.
	if strings.Trim(ns, "/") != f.namespace {
		reply(404, map[string]any{"errors": []string{"no handler for route (namespace " + ns + ")"}})
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v1/")
	if rest, ok := strings.CutPrefix(p, "sys/internal/ui/mounts/"); ok {
		for m := range f.mounts {
			if rest == m || strings.HasPrefix(rest, m+"/") {
				reply(200, map[string]any{"data": map[string]any{"path": m + "/", "type": "kv", "options": map[string]any{"version": "2"}}})
				return
			}
		}
		reply(400, map[string]any{"errors": []string{"no mount found for " + rest}})
		return
	}
	if r.Method != http.MethodGet {
		reply(405, map[string]any{"errors": []string{"unsupported"}})
		return
	}
	for m := range f.mounts {
		if key, ok := strings.CutPrefix(p, m+"/data/"); ok {
			d, found := f.data[m+"/"+key]
			if !found {
				reply(404, map[string]any{"errors": []string{}})
				return
			}
			reply(200, map[string]any{
				"request_id": "0c6a5e1e-8b1f-4c59-9d2e-2f5d1d9c7a11", "lease_id": "", "renewable": false, "lease_duration": 0,
				"data": map[string]any{"data": d, "metadata": map[string]any{
					"created_time": "2026-11-30T10:00:00.000000Z", "custom_metadata": nil, "deletion_time": "", "destroyed": false, "version": 1,
				}},
			})
			return
		}
	}
	reply(404, map[string]any{"errors": []string{}})
}

// render runs Consul Template once over an agent config's templates, the way Vault Agent's
// template server configures it (vault command/agent/template newRunnerConfig: the agent's Vault
// address and namespace, its token, no token renewal), against the fake Vault over TLS trusting
// the fake's CA. Destinations under /vault/secrets are written into a temp dir instead.
func render(t *testing.T, cfg *agent.Config, namespace string, srv *httptest.Server) map[string]string {
	t.Helper()
	quiet.Do(func() {
		if err := ctlogging.Setup(&ctlogging.Config{Level: "ERR", Writer: os.Stderr}); err != nil {
			t.Fatal(err)
		}
	})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "secrets")
	conf := ctconfig.DefaultConfig()
	dest := map[string]string{}
	for _, tpl := range cfg.Templates {
		rel, ok := strings.CutPrefix(tpl.Destination, "/vault/secrets/")
		if !ok {
			t.Fatalf("template destination %q is outside /vault/secrets", tpl.Destination)
		}
		local := filepath.Join(out, rel)
		dest[local] = tpl.Destination
		tc := ctconfig.DefaultTemplateConfig()
		contents, left, right, missing, create := tpl.Contents, tpl.LeftDelim, tpl.RightDelim, tpl.ErrMissingKey, true
		tc.Contents, tc.Destination, tc.LeftDelim, tc.RightDelim, tc.ErrMissingKey, tc.CreateDestDirs = &contents, &local, &left, &right, &missing, &create
		*conf.Templates = append(*conf.Templates, tc)
	}
	addr, tok, renew, enabled, verify := srv.URL, token, false, true, true
	conf.Vault.Address, conf.Vault.Token, conf.Vault.RenewToken = &addr, &tok, &renew
	if namespace != "" {
		conf.Vault.Namespace = &namespace
	}
	conf.Vault.SSL = &ctconfig.SSLConfig{Enabled: &enabled, Verify: &verify, CaCert: &caFile}
	attempts := 1
	conf.Vault.Retry = &ctconfig.RetryConfig{Attempts: &attempts}
	conf.Once = true
	conf.Finalize()

	runner, err := manager.NewRunner(conf, false)
	if err != nil {
		t.Fatalf("consul-template refuses the agent's templates: %v", err)
	}
	go runner.Start()
	defer runner.StopImmediately()
	select {
	case <-runner.DoneCh:
	case err := <-runner.ErrCh:
		t.Fatalf("consul-template failed: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("consul-template did not finish rendering in 20s")
	}
	files := map[string]string{}
	for local, d := range dest {
		b, err := os.ReadFile(local)
		if err != nil {
			t.Fatalf("%s was not rendered: %v", d, err)
		}
		files[d] = string(b)
	}
	return files
}

func seed(t *testing.T, v fixtures.Vault, mount, path string) map[string]string {
	t.Helper()
	for _, s := range v.Seeds {
		if s.Mount == mount && s.Name == path {
			return s.Data
		}
	}
	t.Fatalf("nothing seeded at %s/%s", mount, path)
	return nil
}

// want is what a file must hold: `prefix` + the key's seeded value for a key file (a final
// newline allowed); every key as a `key: value` line, sorted, for a file with neither key nor
// template (Pulumi.yaml, workloads.secrets); nil for a custom template (checked per stack below).
func want(t *testing.T, v fixtures.Vault, s fixtures.SecretFile) *string {
	if s.Template != nil {
		return nil
	}
	if s.Key == nil {
		d := seed(t, v, v.KVMount, s.Path)
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(k + ": " + d[k] + "\n")
		}
		w := strings.TrimSuffix(b.String(), "\n")
		return &w
	}
	value, ok := seed(t, v, v.KVMount, s.Path)[*s.Key]
	if !ok {
		t.Fatalf("key %q is not seeded at %s/%s", *s.Key, v.KVMount, s.Path)
	}
	prefix := ""
	if s.Prefix != nil {
		prefix = *s.Prefix
	}
	w := prefix + value
	return &w
}

func TestTemplatesRender(t *testing.T) {
	for _, name := range []string{"dev", "tenants"} {
		t.Run(name, func(t *testing.T) {
			stack := fixtures.Load[fixtures.Stack](t, name, "stack.json")
			v := fixtures.Load[fixtures.Vault](t, name, "vault.json")
			fake := newFakeVault(v)
			srv := httptest.NewTLSServer(fake)
			defer srv.Close()

			byName := map[string]fixtures.Workload{}
			for _, w := range stack.Config.Workloads {
				byName[w.Name] = w
			}
			reported := fixtures.Load[struct {
				Workloads map[string]struct{ Files []string } `json:"workloads"`
			}](t, name, "outputs.json").Workloads
			inj := injector.LoadStack(t, name)
			for _, in := range inj.InjectAll(t) {
				w := byName[in.Deployment.Name]
				if len(reported[w.Name].Files) != len(w.Secrets) {
					t.Fatalf("%s: the program reports %d files for %d declared secrets", w.Name, len(reported[w.Name].Files), len(w.Secrets))
				}
				t.Run(w.Name, func(t *testing.T) {
					for _, c := range []struct {
						label string
						cfg   *agent.Config
					}{{"vault-agent-init", in.InitConfig}, {"vault-agent", in.SidecarConfig}} {
						if c.cfg == nil {
							continue
						}
						// The agent's template client uses the auto-auth method's namespace
						// (vault command/agent.go: templateNamespace).
						ns := ""
						if c.cfg.AutoAuth != nil && c.cfg.AutoAuth.Method != nil {
							ns = c.cfg.AutoAuth.Method.Namespace
						}
						files := render(t, c.cfg, ns, srv)
						if len(files) != len(w.Secrets) {
							t.Errorf("%s: rendered %d files, want %d", c.label, len(files), len(w.Secrets))
						}
						for i, s := range w.Secrets {
							// The file the program reports for this declaration (outputs.json).
							dest := reported[w.Name].Files[i]
							got, ok := files[dest]
							if !ok {
								t.Errorf("%s: %s not rendered at %s", c.label, s.File, dest)
								continue
							}
							if strings.Contains(got, "<no value>") {
								t.Errorf("%s: %s renders a missing value: %q", c.label, s.File, got)
							}
							// README, troubleshooting: a KV v2 secret read as a whole prints Go maps.
							if strings.Contains(got, "map[") {
								t.Errorf("%s: %s renders a Go map (KV v2's data and metadata): %q", c.label, s.File, got)
							}
							if w := want(t, v, s); w != nil && got != *w && got != *w+"\n" {
								t.Errorf("%s: %s = %q, want %q", c.label, s.File, got, *w)
							}
							if s.Template != nil {
								checkCustom(t, name, w.Name, v, got)
							}
						}
					}
				})
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			for _, r := range fake.requests {
				if strings.HasPrefix(r, "GET /v1/") && !strings.Contains(r, "/sys/") && !strings.Contains(r, "/data/") {
					t.Errorf("a template read outside KV v2's data path: %s", r)
				}
			}
		})
	}
}

// checkCustom holds a custom template's output to what its author wrote it for.
func checkCustom(t *testing.T, stack, workload string, v fixtures.Vault, got string) {
	t.Helper()
	switch stack + "/" + workload {
	case "tenants/reports":
		d := seed(t, v, v.KVMount, "analytics/reports")
		w := "[database]\nuser = " + d["user"] + "\npassword = " + d["password"] + "\n"
		if got != w && got != strings.TrimSuffix(w, "\n") {
			t.Errorf("reports config.ini = %q, want %q", got, w)
		}
	default:
		t.Errorf("custom template of %s/%s has no expected output here", stack, workload)
	}
}

// The blog's lab: the file reads exactly the sentence the blog shows, with the seeded token.
func TestDevStackDevopsToken(t *testing.T) {
	v := fixtures.Load[fixtures.Vault](t, "dev", "vault.json")
	srv := httptest.NewTLSServer(newFakeVault(v))
	defer srv.Close()
	inj := injector.LoadStack(t, "dev")
	for _, in := range inj.InjectAll(t) {
		if in.Deployment.Name != "busybox" {
			continue
		}
		files := render(t, in.InitConfig, "", srv)
		token := seed(t, v, "secret", "devops")["token"]
		if token == "" {
			t.Fatal("no token seeded at secret/devops")
		}
		got := strings.TrimSuffix(files["/vault/secrets/devops_token"], "\n")
		if w := "token value stored on path secret/devops is " + token; got != w {
			t.Errorf("/vault/secrets/devops_token = %q, want %q", got, w)
		}
		return
	}
	t.Fatal("no busybox Deployment in the dev stack")
}
