// Package templates renders every template the injector put in each agent's config with Consul
// Template (github.com/hashicorp/consul-template, the library Vault Agent runs its templates
// with), against Vault's KV secrets engine served on loopback (package vaultkv), holding exactly
// what the program seeds, written the way the Vault provider writes it.
package templates

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"aksvault/upstream/fixtures"
	"aksvault/upstream/injector"
	"aksvault/upstream/stackfile"
	"aksvault/upstream/vaultkv"

	ctconfig "github.com/hashicorp/consul-template/config"
	ctlogging "github.com/hashicorp/consul-template/logging"
	"github.com/hashicorp/consul-template/manager"
	"github.com/hashicorp/vault-k8s/agent-inject/agent"
)

// Consul Template logs through the standard logger; errors only (a failure reaches ErrCh).
var quiet sync.Once

// render runs Consul Template once over an agent config's templates, the way Vault Agent's
// template server configures it (vault command/agent/template newRunnerConfig: the agent's Vault
// address and namespace, its token, no token renewal), against the loopback Vault over TLS
// trusting its CA. Destinations under /vault/secrets are written into a temp dir instead.
func render(t *testing.T, cfg *agent.Config, namespace string, srv *vaultkv.Server) map[string]string {
	t.Helper()
	quiet.Do(func() {
		if err := ctlogging.Setup(&ctlogging.Config{Level: "ERR", Writer: os.Stderr}); err != nil {
			t.Fatal(err)
		}
	})
	dir := t.TempDir()
	caFile := srv.CAFile()
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
	addr, tok, renew, enabled, verify := srv.URL(), vaultkv.Token, false, true, true
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

// seed is what Vault holds at <mount>/<path> after the program's seeds were written: read back
// through the KV engine (the latest version's data), failing when nothing is there.
func seed(t *testing.T, srv *vaultkv.Server, namespace, mount, path string) map[string]string {
	t.Helper()
	secret, err := srv.Client(t, namespace).KVv2(mount).Get(context.Background(), path)
	if err != nil {
		t.Fatalf("nothing readable at %s/%s after the program's seeds: %v", mount, path, err)
	}
	out := map[string]string{}
	for k, v := range secret.Data {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s/%s: key %s holds %T, not a string", mount, path, k, v)
		}
		out[k] = s
	}
	return out
}

// want is what a file must hold, from the stack file: `prefix` + the value Vault holds for the
// key, for a key file (a final newline allowed); every key as a `key: value` line, sorted, for a
// file with neither key nor template (Pulumi.yaml, workloads.secrets); nil for a custom template
// (checked per stack below). Values are read from Vault after the program's seeds were written.
func want(t *testing.T, srv *vaultkv.Server, f stackfile.File, s stackfile.Secret) *string {
	if s.Template != nil {
		return nil
	}
	held := seed(t, srv, f.Vault.Namespace, f.KV.Path, s.Path)
	if s.Key == nil {
		keys := make([]string, 0, len(held))
		for k := range held {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(k + ": " + held[k] + "\n")
		}
		w := strings.TrimSuffix(b.String(), "\n")
		return &w
	}
	value, ok := held[*s.Key]
	if !ok {
		t.Fatalf("key %q is not seeded at %s/%s", *s.Key, f.KV.Path, s.Path)
	}
	prefix := ""
	if s.Prefix != nil {
		prefix = *s.Prefix
	}
	w := prefix + value
	return &w
}

// destination is where the injector writes a declared file: /vault/secrets/<file>, lower-cased
// (vault-k8s agent-inject/agent/annotations.go secrets(): no preserve-secret-case annotation).
func destination(s stackfile.Secret) string { return "/vault/secrets/" + strings.ToLower(s.File) }

// vaultFor starts the stack's Vault (its KV mounts, vault-plugin-secrets-kv) and writes every seed
// the way the Vault provider writes it.
func vaultFor(t *testing.T, stack string) *vaultkv.Server {
	t.Helper()
	srv, v := vaultkv.ForStack(t, stack)
	ns := ""
	if v.Provider.Namespace != nil {
		ns = *v.Provider.Namespace
	}
	vaultkv.WriteAll(t, srv, stack, ns)
	return srv
}

func TestTemplatesRender(t *testing.T) {
	for _, name := range fixtures.Stacks(t) {
		t.Run(name, func(t *testing.T) {
			f := stackfile.Load(t, name)
			srv := vaultFor(t, name)
			reported := fixtures.Load[struct {
				Workloads map[string]struct{ Files []string } `json:"workloads"`
			}](t, name, "outputs.json").Workloads
			inj := injector.LoadStack(t, name)
			rendered := 0
			for _, in := range inj.InjectAll(t) {
				w, ok := f.Workload(in.Deployment.Name)
				if !ok {
					t.Errorf("Deployment %s: no workload of that name in %s", in.Deployment.Name, f.Path)
					continue
				}
				t.Run(w.Name, func(t *testing.T) {
					for i, s := range w.Secrets {
						if files := reported[w.Name].Files; i >= len(files) || files[i] != destination(s) {
							t.Errorf("%s: the program reports %v, want %s at position %d", s.File, files, destination(s), i)
						}
					}
					if in.InitConfig == nil && in.SidecarConfig == nil {
						t.Fatalf("no agent was injected: nothing renders %d declared files", len(w.Secrets))
					}
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
						rendered++
						if len(files) != len(w.Secrets) {
							t.Errorf("%s: rendered %d files, want %d", c.label, len(files), len(w.Secrets))
						}
						for _, s := range w.Secrets {
							dest := destination(s)
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
							if want := want(t, srv, f, s); want != nil && got != *want && got != *want+"\n" {
								t.Errorf("%s: %s = %q, want %q", c.label, s.File, got, *want)
							}
							if s.Template != nil {
								checkCustom(t, name, w.Name, srv, f, got)
							}
						}
					}
				})
			}
			if rendered == 0 {
				t.Fatal("no agent config rendered: the oracle judged nothing")
			}
			for _, r := range srv.Requests() {
				if strings.HasPrefix(r, "GET /v1/") && !strings.Contains(r, "/sys/internal/ui/mounts/") && !strings.Contains(r, "/data/") {
					t.Errorf("a template read outside KV v2's data path: %s", r)
				}
			}
		})
	}
}

// checkCustom holds a custom template's output to what its author wrote it for.
func checkCustom(t *testing.T, stack, workload string, srv *vaultkv.Server, f stackfile.File, got string) {
	t.Helper()
	switch stack + "/" + workload {
	case "tenants/reports":
		d := seed(t, srv, f.Vault.Namespace, f.KV.Path, "analytics/reports")
		w := "[database]\nuser = " + d["user"] + "\npassword = " + d["password"] + "\n"
		if got != w && got != strings.TrimSuffix(w, "\n") {
			t.Errorf("reports config.ini = %q, want %q", got, w)
		}
	default:
		t.Errorf("custom template of %s/%s has no expected output here", stack, workload)
	}
}

// The blog's lab (and its JWT variant): the file reads exactly the sentence the blog shows, with
// the seeded token.
func TestDevStackDevopsToken(t *testing.T) {
	for _, stack := range []string{"dev", "dev-jwt"} {
		t.Run(stack, func(t *testing.T) {
			srv := vaultFor(t, stack)
			inj := injector.LoadStack(t, stack)
			for _, in := range inj.InjectAll(t) {
				if in.Deployment.Name != "busybox" {
					continue
				}
				if in.InitConfig == nil {
					t.Fatal("busybox: no vault-agent-init was injected")
				}
				files := render(t, in.InitConfig, "", srv)
				token := seed(t, srv, "", "secret", "devops")["token"]
				if token == "" {
					t.Fatal("no token seeded at secret/devops")
				}
				got := strings.TrimSuffix(files["/vault/secrets/devops_token"], "\n")
				if w := "token value stored on path secret/devops is " + token; got != w {
					t.Errorf("/vault/secrets/devops_token = %q, want %q", got, w)
				}
				return
			}
			t.Fatal("no busybox Deployment in the stack")
		})
	}
}
