package injector

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"

	"aksvault/upstream/fixtures"
	"aksvault/upstream/stackfile"
	"aksvault/upstream/vaultinputs"

	"github.com/hashicorp/vault-k8s/agent-inject/agent"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
)

// docResources are Pulumi.yaml's "injection" defaults per mode: init-only requests no CPU.
var docResources = map[string]struct{ requests, limits stackfile.Quantities }{
	"init-only": {stackfile.Quantities{CPU: "0", Memory: "48Mi"}, stackfile.Quantities{CPU: "500m", Memory: "128Mi"}},
	"sidecar":   {stackfile.Quantities{CPU: "25m", Memory: "48Mi"}, stackfile.Quantities{CPU: "500m", Memory: "128Mi"}},
}

func or(v, d string) string {
	if v != "" {
		return v
	}
	return d
}

type stackCase struct {
	file     stackfile.File
	vault    vaultinputs.Raw
	injector Stack
	injected map[string]Injected
	k8s      fixtures.Kubernetes
	// fqdn is the cluster's, as the cloud computed it (stack.json): the API server's audience.
	fqdn string
}

func load(t *testing.T, name string) stackCase {
	t.Helper()
	s := LoadStack(t, name)
	c := stackCase{
		file:     stackfile.Load(t, name),
		vault:    vaultinputs.LoadRaw(t, name),
		injector: s,
		injected: map[string]Injected{},
		k8s:      fixtures.Load[fixtures.Kubernetes](t, name, "kubernetes.json"),
		fqdn:     fixtures.Load[fixtures.Stack](t, name, "stack.json").Cluster.FQDN,
	}
	for _, in := range s.InjectAll(t) {
		c.injected[in.Deployment.Name] = in
	}
	return c
}

// Every workload with a Deployment, with the Deployment the injector saw.
func (c stackCase) workloads(t *testing.T) []stackfile.Workload {
	t.Helper()
	var out []stackfile.Workload
	for _, w := range c.file.Workloads {
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

func checkResources(t *testing.T, what string, got corev1.ResourceRequirements, requests, limits stackfile.Quantities) {
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
	for _, name := range fixtures.Stacks(t) {
		t.Run(name, func(t *testing.T) {
			c := load(t, name)
			f := c.file
			authPath := "auth/" + f.KubernetesAuth.Path
			method := f.KubernetesAuth.Method

			t.Run("chart environment", func(t *testing.T) {
				// The agents' Vault is the external one, and the injector's default auth path is ours.
				if got := c.injector.Handler.VaultAddress; got != f.Vault.Address {
					t.Errorf("injector Vault address %q, want the stack's vault.address %q", got, f.Vault.Address)
				}
				if got := c.injector.Handler.VaultAuthPath; got != authPath {
					t.Errorf("injector default auth path %q, want %q", got, authPath)
				}
				if f.Vault.CACertPEM != "" && c.injector.Handler.VaultCACertBytes != f.Vault.CACertPEM {
					t.Errorf("AGENT_INJECT_VAULT_CACERT_BYTES is not the stack's vault.caCertPem")
				}
			})

			t.Run("webhook selectors", func(t *testing.T) { checkSelectors(t, c) })

			for _, w := range c.workloads(t) {
				t.Run(w.Name, func(t *testing.T) {
					in := c.injected[w.Name]
					if !in.Seen {
						t.Fatalf("the API server never calls the injector for this pod: %s", in.NotSeen)
					}
					mode := w.Mode()
					def := docResources[mode]
					r := w.Injection.Resources
					requests := stackfile.Quantities{CPU: or(r.Requests.CPU, def.requests.CPU), Memory: or(r.Requests.Memory, def.requests.Memory)}
					limits := stackfile.Quantities{CPU: or(r.Limits.CPU, def.limits.CPU), Memory: or(r.Limits.Memory, def.limits.Memory)}

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

					check := func(ctr *corev1.Container, ac *agent.Config) {
						if ac == nil {
							return
						}
						label := ctr.Name
						m := ac.AutoAuth.Method
						if m == nil {
							t.Fatalf("%s: no auto_auth method", label)
						}
						if m.Type != method {
							t.Errorf("%s: auto-auth method %q, want the stack's kubernetesAuth.method %q", label, m.Type, method)
						}
						if m.MountPath != authPath {
							t.Errorf("%s: auto-auth mount path %q, want %q", label, m.MountPath, authPath)
						}
						role := w.RoleName()
						if got, _ := m.Config["role"].(string); got != role {
							t.Errorf("%s: role %q, want %q", label, got, role)
						}
						if m.Namespace != f.Vault.Namespace {
							t.Errorf("%s: Vault namespace %q, want %q", label, m.Namespace, f.Vault.Namespace)
						}
						if ac.Vault == nil || ac.Vault.Address != f.Vault.Address {
							t.Errorf("%s: Vault address %+v, want %q", label, ac.Vault, f.Vault.Address)
						}
						// The role the agent asks for exists on the mount it logs in to, bound to
						// exactly this pod's service account and namespace.
						if method == "jwt" {
							checkJWTLogin(t, c, w, in, ctr, m.Config)
						} else if !boundRole(c.vault.Roles, f.KubernetesAuth.Path, role, w) {
							t.Errorf("%s: no role %q on %s bound to exactly %s/%s", label, role, m.MountPath, w.Namespace, w.ServiceAccount)
						} else {
							checkKubernetesLogin(t, c, w, in, ctr, m.Config)
						}

						// One template per declared file, at /vault/secrets/<file> (lower-cased: no
						// preserve-case annotation), reading the declared KV v2 path; a custom
						// template verbatim.
						if len(ac.Templates) != len(w.Secrets) {
							t.Errorf("%s: %d templates, want %d (one per declared file)", label, len(ac.Templates), len(w.Secrets))
						}
						byDest := map[string]*agent.Template{}
						for _, tpl := range ac.Templates {
							byDest[tpl.Destination] = tpl
						}
						for _, s := range w.Secrets {
							dest := "/vault/secrets/" + strings.ToLower(s.File)
							tpl, ok := byDest[dest]
							if !ok {
								t.Errorf("%s: file %s: the injector writes no template at %s", label, s.File, dest)
								continue
							}
							if s.Template != nil {
								if tpl.Contents != *s.Template {
									t.Errorf("%s: custom template for %s changed on the way:\n%q\nwant\n%q", label, s.File, tpl.Contents, *s.Template)
								}
							} else if want := `secret "` + f.KV.Path + "/data/" + s.Path + `"`; !strings.Contains(tpl.Contents, want) {
								t.Errorf("%s: template for %s does not read %s:\n%s", label, s.File, want, tpl.Contents)
							}
						}
					}
					check(in.Init, in.InitConfig)
					if in.Sidecar != nil {
						check(in.Sidecar, in.SidecarConfig)
					}
					if in.InitConfig != nil && !in.InitConfig.ExitAfterAuth {
						t.Error("vault-agent-init: exit_after_auth is false: the init container would never finish")
					}
					if in.SidecarConfig != nil && in.SidecarConfig.ExitAfterAuth {
						t.Error("vault-agent: exit_after_auth is true: the sidecar would exit after the first render")
					}

					// A private CA reaches every agent container.
					if f.Vault.CACertPEM != "" {
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
							if strings.TrimSpace(got) != strings.TrimSpace(f.Vault.CACertPEM) {
								t.Errorf("%s: VAULT_CACERT_BYTES is not the stack's vault.caCertPem", ctr.Name)
							}
						}
					}
				})
			}
		})
	}
}

// boundRole: a Kubernetes auth role of that name on the mount, bound to exactly the workload's
// service account and namespace.
func boundRole(roles []map[string]any, mount, role string, w stackfile.Workload) bool {
	for _, r := range roles {
		if vaultinputs.String(r, "backend") == mount && vaultinputs.String(r, "roleName") == role {
			return slices.Equal(vaultinputs.Strings(r, "boundServiceAccountNames"), []string{w.ServiceAccount}) &&
				slices.Equal(vaultinputs.Strings(r, "boundServiceAccountNamespaces"), []string{w.Namespace})
		}
	}
	return false
}

// checkJWTLogin: with method jwt the agent logs in with a token file (auto-auth `path`) that the
// injector mounted into this agent container from a projected service-account token for the
// stack's audience (kubernetesAuth.audience or its documented default) and lifetime; it keeps the
// file (remove_jwt_after_reading false: the projected volume is read-only); the JWT role it names
// is bound to exactly the pod's `sub` and that audience.
func checkJWTLogin(t *testing.T, c stackCase, w stackfile.Workload, in Injected, ctr *corev1.Container, conf map[string]any) {
	t.Helper()
	f := c.file
	tokenPath, _ := conf["path"].(string)
	if tokenPath == "" {
		t.Errorf("%s: jwt auto-auth has no token path", ctr.Name)
		return
	}
	source := projectedSource(in, ctr, tokenPath)
	if source == nil {
		t.Errorf("%s: the agent reads its JWT from %s, which is no projected service-account token mounted into it", ctr.Name, tokenPath)
		return
	}
	if source.Audience != f.JWTAudience() {
		t.Errorf("%s: the token at %s has audience %q, want %q", ctr.Name, tokenPath, source.Audience, f.JWTAudience())
	}
	if source.ExpirationSeconds == nil || int(*source.ExpirationSeconds) != f.KubernetesAuth.TokenExpirationSeconds {
		t.Errorf("%s: the token at %s lives %v s, want %d", ctr.Name, tokenPath, source.ExpirationSeconds, f.KubernetesAuth.TokenExpirationSeconds)
	}
	if v, ok := conf["remove_jwt_after_reading"]; !ok || fmt.Sprint(v) != "false" {
		t.Errorf("%s: remove_jwt_after_reading = %v, want false (the projected volume is read-only)", ctr.Name, v)
	}
	for _, r := range c.vault.JWTRoles {
		if vaultinputs.String(r, "backend") != f.KubernetesAuth.Path || vaultinputs.String(r, "roleName") != w.RoleName() {
			continue
		}
		sub := "system:serviceaccount:" + w.Namespace + ":" + w.ServiceAccount
		if got := vaultinputs.String(r, "boundSubject"); got != sub {
			t.Errorf("%s: JWT role %s binds sub %q, want %q", ctr.Name, w.RoleName(), got, sub)
		}
		if got := vaultinputs.Strings(r, "boundAudiences"); !slices.Equal(got, []string{f.JWTAudience()}) {
			t.Errorf("%s: JWT role %s binds audiences %v, want [%s]", ctr.Name, w.RoleName(), got, f.JWTAudience())
		}
		return
	}
	t.Errorf("%s: no JWT role %q on %s", ctr.Name, w.RoleName(), f.KubernetesAuth.Path)
}

// checkSelectors evaluates the chart's webhook selectors (rendered from the values the program
// passes) with apimachinery's selector code against the namespaces and pods of the stack: every
// workload's pods are seen; a namespace no workload declares is not (docs/security.md: the
// webhook fails closed only where secrets are expected), nor are kube-system and the injector's
// own namespace even when labelled like a workload namespace, nor the injector's own pods.
func checkSelectors(t *testing.T, c stackCase) {
	wh := c.injector.Webhook
	t.Logf("namespaceSelector %s; objectSelector %s", wh.NamespaceSelector, wh.ObjectSelector)
	declared := map[string]bool{}
	for _, w := range c.file.Workloads {
		declared[w.Namespace] = true
		nsLabels := NamespaceLabels(c.k8s, w.Namespace)
		if !wh.NamespaceSelector.Matches(nsLabels) {
			t.Errorf("workload %s: namespace %s (labels %v) is not selected by the webhook's namespaceSelector %s",
				w.Name, w.Namespace, nsLabels, wh.NamespaceSelector)
		}
		if in, ok := c.injected[w.Name]; ok && !in.Seen {
			t.Errorf("workload %s: the webhook never sees its pods: %s", w.Name, in.NotSeen)
		}
	}
	// What the program puts on workload namespaces, put by mistake on namespaces that must stay out.
	workloadLabels := labels.Set{}
	for _, ns := range c.k8s.Namespaces {
		if declared[ns.Name] {
			for k, v := range ns.Labels {
				workloadLabels[k] = v
			}
		}
	}
	for _, ns := range []string{"default", "team-elsewhere", c.file.Injector.Namespace} {
		if declared[ns] {
			continue
		}
		if l := NamespaceLabels(c.k8s, ns); wh.NamespaceSelector.Matches(l) {
			t.Errorf("namespace %s (labels %v), where no workload is declared, is selected by the webhook", ns, l)
		}
	}
	for _, ns := range []string{"kube-system", c.file.Injector.Namespace} {
		l := labels.Merge(NamespaceLabels(c.k8s, ns), workloadLabels)
		l["kubernetes.io/metadata.name"] = ns
		if wh.NamespaceSelector.Matches(l) {
			t.Errorf("namespace %s labelled like a workload namespace (%v) is selected by the webhook", ns, l)
		}
	}
	// The injector's own pods (labels of the chart's templates/injector-deployment.yaml).
	injectorPod := labels.Set{"app.kubernetes.io/name": "vault-agent-injector", "app.kubernetes.io/instance": c.file.Injector.ReleaseName, "component": "webhook"}
	if wh.ObjectSelector.Matches(injectorPod) {
		t.Errorf("the webhook's objectSelector %s selects the injector's own pods", wh.ObjectSelector)
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

// The dev stack is the blog's lab (and dev-jwt its JWT variant): its one file is exactly where
// the blog reads it.
func TestDevStackFile(t *testing.T) {
	for stack, mount := range map[string]string{"dev": "auth/aks", "dev-jwt": "auth/aks-jwt"} {
		t.Run(stack, func(t *testing.T) {
			c := load(t, stack)
			in := c.injected["busybox"]
			if in.InitConfig == nil || len(in.InitConfig.Templates) != 1 {
				t.Fatalf("busybox: want one template in the init agent's config")
			}
			tpl := in.InitConfig.Templates[0]
			if tpl.Destination != "/vault/secrets/devops_token" {
				t.Errorf("destination %q, want /vault/secrets/devops_token", tpl.Destination)
			}
			if m := in.InitConfig.AutoAuth.Method; m.MountPath != mount {
				t.Errorf("mount path %q, want %s", m.MountPath, mount)
			}
		})
	}
}

// projectedSource is the projected service-account token source behind file tokenPath in the
// agent container ctr of the injected pod, or nil.
func projectedSource(in Injected, ctr *corev1.Container, tokenPath string) *corev1.ServiceAccountTokenProjection {
	var source *corev1.ServiceAccountTokenProjection
	for _, vm := range ctr.VolumeMounts {
		rel, ok := strings.CutPrefix(tokenPath, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range in.Pod.Spec.Volumes {
			if v.Name != vm.Name || v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if src.ServiceAccountToken != nil && src.ServiceAccountToken.Path == rel {
					source = src.ServiceAccountToken
				}
			}
		}
	}
	return source
}

// checkKubernetesLogin: with method kubernetes the agent logs in with the token at its auto-auth
// `token_path`, which the injector points at a projected service-account token mounted into this
// agent container (the agent-service-account-token-volume-name annotation) for the audience the
// role binds (docs/security.md: Vault's own with the default reviewer, the API server's with
// clientJwt); the role the agent names binds exactly that audience.
func checkKubernetesLogin(t *testing.T, c stackCase, w stackfile.Workload, in Injected, ctr *corev1.Container, conf map[string]any) {
	t.Helper()
	f := c.file
	audience := f.KubernetesRoleAudience(c.fqdn)
	tokenPath, _ := conf["token_path"].(string)
	source := projectedSource(in, ctr, tokenPath)
	if source == nil {
		t.Errorf("%s: the agent logs in with the token at %q, which is no projected service-account token mounted into it (the pod's default token has the API server's audience)", ctr.Name, tokenPath)
	} else if source.Audience != audience {
		t.Errorf("%s: the token at %s has audience %q, want the role's %q", ctr.Name, tokenPath, source.Audience, audience)
	}
	for _, r := range c.vault.Roles {
		if vaultinputs.String(r, "backend") == f.KubernetesAuth.Path && vaultinputs.String(r, "roleName") == w.RoleName() {
			if got := vaultinputs.String(r, "audience"); got != audience {
				t.Errorf("%s: role %s binds audience %q, want %q", ctr.Name, w.RoleName(), got, audience)
			}
		}
	}
}
