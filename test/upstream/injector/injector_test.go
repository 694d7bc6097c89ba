package injector

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"aksvault/upstream/fixtures"

	"github.com/hashicorp/vault-k8s/agent-inject/agent"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The documented defaults (Pulumi.yaml, docs): what a stack gets for a key it leaves out. They are
// the contract the injector's output is held to, not a copy of the program's constants.
const (
	docAuthPath = "kubernetes"
	docKVPath   = "secret"
	docMode     = "init-only"
)

// docResources are Pulumi.yaml's "injection" defaults per mode: init-only requests no CPU.
var docResources = map[string]struct{ requests, limits fixtures.Quantities }{
	"init-only": {fixtures.Quantities{CPU: "0", Memory: "48Mi"}, fixtures.Quantities{CPU: "500m", Memory: "128Mi"}},
	"sidecar":   {fixtures.Quantities{CPU: "25m", Memory: "48Mi"}, fixtures.Quantities{CPU: "500m", Memory: "128Mi"}},
}

func or(v, d string) string {
	if v != "" {
		return v
	}
	return d
}

type stackCase struct {
	stack    fixtures.Stack
	vault    fixtures.Vault
	outputs  outputs
	injector Stack
	injected map[string]Injected
}

type outputs struct {
	Workloads map[string]struct {
		Namespace string   `json:"namespace"`
		Role      string   `json:"role"`
		Files     []string `json:"files"`
	} `json:"workloads"`
}

func load(t *testing.T, name string) stackCase {
	t.Helper()
	s := LoadStack(t, name)
	c := stackCase{
		stack:    fixtures.Load[fixtures.Stack](t, name, "stack.json"),
		vault:    fixtures.Load[fixtures.Vault](t, name, "vault.json"),
		outputs:  fixtures.Load[outputs](t, name, "outputs.json"),
		injector: s,
		injected: map[string]Injected{},
	}
	for _, in := range s.InjectAll(t) {
		c.injected[in.Deployment.Name] = in
	}
	return c
}

// Every workload with a Deployment, with the Deployment the injector saw.
func (c stackCase) workloads(t *testing.T) []fixtures.Workload {
	t.Helper()
	var out []fixtures.Workload
	for _, w := range c.stack.Config.Workloads {
		if w.Deployment == nil {
			continue
		}
		if _, ok := c.injected[w.Name]; !ok {
			t.Fatalf("workload %s declares a deployment, but no Deployment %s was rendered", w.Name, w.Name)
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		t.Fatal("no workload with a deployment: nothing for the injector to judge")
	}
	return out
}

func quantity(t *testing.T, s string) resource.Quantity {
	t.Helper()
	q, err := resource.ParseQuantity(s)
	if err != nil {
		t.Fatalf("quantity %q: %v", s, err)
	}
	return q
}

func checkResources(t *testing.T, what string, got corev1.ResourceRequirements, requests, limits fixtures.Quantities) {
	t.Helper()
	for _, c := range []struct {
		side string
		list corev1.ResourceList
		name corev1.ResourceName
		want string
	}{
		{"requests", got.Requests, corev1.ResourceCPU, requests.CPU},
		{"requests", got.Requests, corev1.ResourceMemory, requests.Memory},
		{"limits", got.Limits, corev1.ResourceCPU, limits.CPU},
		{"limits", got.Limits, corev1.ResourceMemory, limits.Memory},
	} {
		q, ok := c.list[c.name]
		if !ok {
			t.Errorf("%s: no %s %s (the injector would fall back to nothing)", what, c.side, c.name)
			continue
		}
		if want := quantity(t, c.want); q.Cmp(want) != 0 {
			t.Errorf("%s: %s %s = %s, want %s", what, c.side, c.name, q.String(), want.String())
		}
	}
}

func TestInjector(t *testing.T) {
	for _, name := range []string{"dev", "tenants"} {
		t.Run(name, func(t *testing.T) {
			c := load(t, name)
			cfg := c.stack.Config
			authPath := "auth/" + or(cfg.KubernetesAuth.Path, docAuthPath)
			kv := or(cfg.KV.Path, docKVPath)

			t.Run("chart environment", func(t *testing.T) {
				// The agents' Vault is the external one, and the injector's default auth path is ours.
				if got := c.injector.Handler.VaultAddress; got != cfg.Vault.Address {
					t.Errorf("injector Vault address %q, want the stack's vault.address %q", got, cfg.Vault.Address)
				}
				if got := c.injector.Handler.VaultAuthPath; got != authPath {
					t.Errorf("injector default auth path %q, want %q", got, authPath)
				}
				if cfg.Vault.CACertPEM != "" && c.injector.Handler.VaultCACertBytes != cfg.Vault.CACertPEM {
					t.Errorf("AGENT_INJECT_VAULT_CACERT_BYTES is not the stack's vault.caCertPem")
				}
			})

			for _, w := range c.workloads(t) {
				t.Run(w.Name, func(t *testing.T) {
					in := c.injected[w.Name]
					mode := or(w.Injection.Mode, docMode)
					def := docResources[mode]
					requests := fixtures.Quantities{CPU: or(w.Injection.Resources.Requests.CPU, def.requests.CPU), Memory: or(w.Injection.Resources.Requests.Memory, def.requests.Memory)}
					limits := fixtures.Quantities{CPU: or(w.Injection.Resources.Limits.CPU, def.limits.CPU), Memory: or(w.Injection.Resources.Limits.Memory, def.limits.Memory)}

					if in.Pod.Namespace != w.Namespace || in.Pod.Spec.ServiceAccountName != w.ServiceAccount {
						t.Fatalf("pod runs as %s/%s, want %s/%s", in.Pod.Namespace, in.Pod.Spec.ServiceAccountName, w.Namespace, w.ServiceAccount)
					}

					// Containers: the init container always renders before the app starts; a
					// sidecar only in sidecar mode.
					if in.Init == nil {
						t.Fatal("the injector added no vault-agent-init container")
					}
					if mode == "sidecar" && in.Sidecar == nil {
						t.Error("sidecar mode, but the injector added no vault-agent sidecar")
					}
					if mode == "init-only" && in.Sidecar != nil {
						t.Error("init-only mode, but the injector added a vault-agent sidecar")
					}
					checkResources(t, "vault-agent-init", in.Init.Resources, requests, limits)
					if in.Sidecar != nil {
						checkResources(t, "vault-agent", in.Sidecar.Resources, requests, limits)
					}
					if mode == "init-only" {
						if cpu := in.Init.Resources.Requests[corev1.ResourceCPU]; !cpu.IsZero() {
							t.Errorf("init-only: the init container requests %s CPU, want 0", cpu.String())
						}
					}

					// The app container sees the rendered files.
					app := in.Pod.Spec.Containers[0]
					if app.Name != w.Name {
						t.Fatalf("first container is %q, want the app %q", app.Name, w.Name)
					}
					if !slices.ContainsFunc(app.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/vault/secrets" }) {
						t.Error("the app container does not mount /vault/secrets")
					}

					check := func(label string, ac *agent.Config) {
						if ac == nil {
							return
						}
						m := ac.AutoAuth.Method
						if m == nil {
							t.Fatalf("%s: no auto_auth method", label)
						}
						if m.Type != "kubernetes" {
							t.Errorf("%s: auto-auth method %q, want kubernetes", label, m.Type)
						}
						if m.MountPath != authPath {
							t.Errorf("%s: auto-auth mount path %q, want %q", label, m.MountPath, authPath)
						}
						role := or(w.Role, w.Name)
						if got, _ := m.Config["role"].(string); got != role {
							t.Errorf("%s: role %q, want %q", label, got, role)
						}
						if m.Namespace != cfg.Vault.Namespace {
							t.Errorf("%s: Vault namespace %q, want %q", label, m.Namespace, cfg.Vault.Namespace)
						}
						if ac.Vault == nil || ac.Vault.Address != cfg.Vault.Address {
							t.Errorf("%s: Vault address %+v, want %q", label, ac.Vault, cfg.Vault.Address)
						}
						// The role the agent asks for exists on the mount it logs in to, bound to
						// exactly this pod's service account and namespace.
						var bound bool
						for _, r := range c.vault.Roles {
							if "auth/"+r.Backend == m.MountPath && r.RoleName == role {
								bound = slices.Equal(r.BoundServiceAccountNames, []string{w.ServiceAccount}) && slices.Equal(r.BoundServiceAccountNamespaces, []string{w.Namespace})
							}
						}
						if !bound {
							t.Errorf("%s: no role %q on %s bound to %s/%s", label, role, m.MountPath, w.Namespace, w.ServiceAccount)
						}

						// One template per declared file, at the path the program reports, reading
						// the declared KV v2 path; a custom template verbatim.
						if len(ac.Templates) != len(w.Secrets) {
							t.Errorf("%s: %d templates, want %d (one per declared file)", label, len(ac.Templates), len(w.Secrets))
						}
						// Matched by the path the program reports for each declared file (its
						// outputs), not by position: the injector orders templates its own way.
						files := c.outputs.Workloads[w.Name].Files
						if len(files) != len(w.Secrets) {
							t.Fatalf("the program reports %d files for %d declared secrets", len(files), len(w.Secrets))
						}
						byDest := map[string]*agent.Template{}
						for _, tpl := range ac.Templates {
							byDest[tpl.Destination] = tpl
						}
						for i, s := range w.Secrets {
							tpl, ok := byDest[files[i]]
							if !ok {
								t.Errorf("%s: file %s: the program reports %q, but the injector writes no template there", label, s.File, files[i])
								continue
							}
							if !strings.HasPrefix(tpl.Destination, "/vault/secrets/") {
								t.Errorf("%s: file %s lands at %q, outside /vault/secrets", label, s.File, tpl.Destination)
							}
							if s.Template != nil {
								if tpl.Contents != *s.Template {
									t.Errorf("%s: custom template for %s changed on the way:\n%q\nwant\n%q", label, s.File, tpl.Contents, *s.Template)
								}
							} else if want := `secret "` + kv + "/data/" + s.Path + `"`; !strings.Contains(tpl.Contents, want) {
								t.Errorf("%s: template for %s does not read %s:\n%s", label, s.File, want, tpl.Contents)
							}
						}
					}
					check("vault-agent-init", in.InitConfig)
					check("vault-agent", in.SidecarConfig)
					if in.InitConfig != nil && !in.InitConfig.ExitAfterAuth {
						t.Error("vault-agent-init: exit_after_auth is false: the init container would never finish")
					}
					if in.SidecarConfig != nil && in.SidecarConfig.ExitAfterAuth {
						t.Error("vault-agent: exit_after_auth is true: the sidecar would exit after the first render")
					}

					// A private CA reaches every agent container.
					if cfg.Vault.CACertPEM != "" {
						for _, ctr := range []*corev1.Container{in.Init, in.Sidecar} {
							if ctr == nil {
								continue
							}
							got := env(ctr, "VAULT_CACERT_BYTES")
							block, _ := pem.Decode([]byte(got))
							if block == nil {
								t.Errorf("%s: VAULT_CACERT_BYTES is not PEM: %q", ctr.Name, got)
								continue
							}
							if _, err := x509.ParseCertificate(block.Bytes); err != nil {
								t.Errorf("%s: VAULT_CACERT_BYTES does not parse as a certificate: %v", ctr.Name, err)
							}
							if strings.TrimSpace(got) != strings.TrimSpace(cfg.Vault.CACertPEM) {
								t.Errorf("%s: VAULT_CACERT_BYTES is not the stack's vault.caCertPem", ctr.Name)
							}
						}
					}
				})
			}
		})
	}
}

func env(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// The dev stack is the blog's lab: its one file is exactly where the blog reads it.
func TestDevStackFile(t *testing.T) {
	c := load(t, "dev")
	in := c.injected["busybox"]
	if in.InitConfig == nil || len(in.InitConfig.Templates) != 1 {
		t.Fatalf("busybox: want one template in the init agent's config")
	}
	tpl := in.InitConfig.Templates[0]
	if tpl.Destination != "/vault/secrets/devops_token" {
		t.Errorf("destination %q, want /vault/secrets/devops_token", tpl.Destination)
	}
	if m := in.InitConfig.AutoAuth.Method; m.MountPath != "auth/aks" {
		t.Errorf("mount path %q, want auth/aks", m.MountPath)
	}
}
