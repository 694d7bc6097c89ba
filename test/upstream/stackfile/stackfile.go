// Package stackfile reads the stack file a fixture stack was evaluated from (the YAML the user
// wrote: Pulumi.<stack>.yaml or test/upstream/stacks/*.yaml), with a YAML parser in Go, and fills
// in the documented defaults (docs/configuration.md). The oracles hold the rendered output to
// this, never to the program's own parse of it (settings.json): a parsing bug in the program would
// agree with itself.
package stackfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"aksvault/upstream/fixtures"
)

// File is one stack file's settings, as written, with the documented defaults applied.
type File struct {
	// Path is the stack file, relative to the repository root.
	Path string
	// Project is Pulumi.yaml's `name`: the config keys' namespace.
	Project        string
	Vault          Vault          `json:"vault"`
	Injector       Injector       `json:"injector"`
	KubernetesAuth KubernetesAuth `json:"kubernetesAuth"`
	KV             KV             `json:"kv"`
	Platform       Platform       `json:"platform"`
	Workloads      []Workload     `json:"workloads"`
}

// Platform is `platform`: the platform team's settings (docs/configuration.md, docs/security.md).
type Platform struct {
	ReservedNamespaces []string `json:"reservedNamespaces"`
	WildcardWorkloads  []string `json:"wildcardWorkloads"`
	SecretConfigKeys   []string `json:"secretConfigKeys"`
}

// Vault is `vault`.
type Vault struct {
	Address         string   `json:"address"`
	Namespace       string   `json:"namespace"`
	CACertPEM       string   `json:"caCertPem"`
	AllowedPolicies []string `json:"allowedPolicies"`
	PolicyPrefix    *string  `json:"policyPrefix"`
	PolicyNaming    string   `json:"policyNaming"`
}

// Injector is `injector` (the keys the oracles read).
type Injector struct {
	Namespace   string `json:"namespace"`
	ReleaseName string `json:"releaseName"`
}

// KubernetesAuth is `kubernetesAuth`.
type KubernetesAuth struct {
	Method                 string `json:"method"`
	Path                   string `json:"path"`
	ValidateIssuer         *bool  `json:"validateIssuer"`
	Reviewer               string `json:"reviewer"`
	Audience               string `json:"audience"`
	TokenExpirationSeconds int    `json:"tokenExpirationSeconds"`
}

// KV is `kv`.
type KV struct {
	Path     string `json:"path"`
	Existing bool   `json:"existing"`
	External []struct {
		Path    string   `json:"path"`
		Readers []string `json:"readers"`
	} `json:"external"`
}

// Quantities are one side of a resources block.
type Quantities struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// Secret is one entry of a workload's `secrets`.
type Secret struct {
	File       string   `json:"file"`
	Path       string   `json:"path"`
	Key        *string  `json:"key"`
	Prefix     *string  `json:"prefix"`
	Template   *string  `json:"template"`
	From       string   `json:"from"`
	SharedWith []string `json:"sharedWith"`
}

// SeedValue is one key of a seed's `values`: exactly one of the three is set.
type SeedValue struct {
	SecretConfig *string `json:"secretConfig"`
	Random       *struct {
		Length  int  `json:"length"`
		Special bool `json:"special"`
	} `json:"random"`
	Value *string `json:"value"`
}

// Seed is one entry of a workload's `seed`.
type Seed struct {
	Path       string               `json:"path"`
	Values     map[string]SeedValue `json:"values"`
	WriteOnce  *bool                `json:"writeOnce"`
	SharedWith []string             `json:"sharedWith"`
}

// Workload is one entry of `workloads`.
type Workload struct {
	Name              string   `json:"name"`
	Namespace         string   `json:"namespace"`
	ServiceAccount    string   `json:"serviceAccount"`
	AllowWildcard     bool     `json:"allowWildcard"`
	Role              string   `json:"role"`
	TokenTTL          *int     `json:"tokenTtl"`
	TokenMaxTTL       *int     `json:"tokenMaxTtl"`
	Policies          []string `json:"policies"`
	CreateNamespace   *bool    `json:"createNamespace"`
	ExtraCapabilities []string `json:"extraCapabilities"`
	Secrets           []Secret `json:"secrets"`
	Seed              []Seed   `json:"seed"`
	Injection         struct {
		Mode      string `json:"mode"`
		Resources struct {
			Requests Quantities `json:"requests"`
			Limits   Quantities `json:"limits"`
		} `json:"resources"`
	} `json:"injection"`
	Deployment *struct {
		Image    string `json:"image"`
		Replicas *int   `json:"replicas"`
	} `json:"deployment"`
}

// The documented defaults (docs/configuration.md, generated from the schema): what a stack gets
// for a key it leaves out.
const (
	DefaultKVPath            = "secret"
	DefaultMethod            = "kubernetes"
	DefaultInjectorNamespace = "vault"
	DefaultReleaseName       = "vault"
	DefaultMode              = "init-only"
	DefaultTokenTTL          = 3600
	DefaultTokenExpiration   = 3600
	DefaultReviewer          = "serviceAccountToken"
	DefaultPolicyNaming      = "scoped"
)

// DefaultAuthPath is `kubernetesAuth.path` when omitted: the method's name.
func DefaultAuthPath(method string) string { return method }

// RoleName is the workload's Vault role: `role`, else its name.
func (w Workload) RoleName() string {
	if w.Role != "" {
		return w.Role
	}
	return w.Name
}

// CreatesNamespace is `createNamespace` (default true).
func (w Workload) CreatesNamespace() bool { return w.CreateNamespace == nil || *w.CreateNamespace }

// Mode is `injection.mode` (default init-only).
func (w Workload) Mode() string {
	if w.Injection.Mode != "" {
		return w.Injection.Mode
	}
	return DefaultMode
}

// IsWriteOnce is a seed's `writeOnce` (default true).
func (s Seed) IsWriteOnce() bool { return s.WriteOnce == nil || *s.WriteOnce }

// Owns reports whether the workload owns path: it seeds it or reads it without `from`.
func (w Workload) Owns(path string) bool {
	for _, s := range w.Seed {
		if s.Path == path {
			return true
		}
	}
	for _, s := range w.Secrets {
		if s.Path == path && (s.From == "" || s.From == w.Name) {
			return true
		}
	}
	return false
}

// ExtraPolicies is `policies` (default ["default"]).
func (w Workload) ExtraPolicies() []string {
	if w.Policies == nil {
		return []string{"default"}
	}
	return w.Policies
}

// JWTAudience is the audience of the pods' tokens with method jwt: `kubernetesAuth.audience`, else
// the documented default (DefaultAudience).
func (f File) JWTAudience() string {
	if f.KubernetesAuth.Audience != "" {
		return f.KubernetesAuth.Audience
	}
	return f.DefaultAudience()
}

// DefaultAudience is `<vault.address>/v1/[<vault.namespace>/]auth/<path>`, the login URL's prefix
// (docs/configuration.md `kubernetesAuth.audience`, docs/security.md).
func (f File) DefaultAudience() string {
	ns := ""
	if f.Vault.Namespace != "" {
		ns = f.Vault.Namespace + "/"
	}
	return strings.TrimRight(f.Vault.Address, "/") + "/v1/" + ns + "auth/" + f.KubernetesAuth.Path
}

// KubernetesRoleAudience is the audience every Kubernetes auth role binds and the pods' projected
// token carries, with method kubernetes (docs/security.md, "Every Kubernetes auth role is bound to
// one audience"): with the default reviewer (`serviceAccountToken`) Vault's own, DefaultAudience
// (`kubernetesAuth.audience` is jwt only); with `clientJwt` the API server's, `https://<cluster
// FQDN>` (the API server URL without `:443`). fqdn is the cluster's, as the cloud computed it
// (stack.json); the oracles' stacks all create their cluster (an `existing` one would use its
// service-account issuer).
func (f File) KubernetesRoleAudience(fqdn string) string {
	if f.KubernetesAuth.Reviewer == "clientJwt" {
		return "https://" + fqdn
	}
	return f.DefaultAudience()
}

// ReservedNamespaces are the namespaces no workload may use (docs/security.md, "Reserved
// namespaces"): `default`, the injector's, `platform.reservedNamespaces`; and any `kube-` one
// (IsReserved).
func (f File) ReservedNamespaces() []string {
	return append([]string{"default", f.Injector.Namespace}, f.Platform.ReservedNamespaces...)
}

// IsReserved: no workload may use namespace ns (ReservedNamespaces, or a `kube-` prefix).
func (f File) IsReserved(ns string) bool {
	return strings.HasPrefix(ns, "kube-") || slices.Contains(f.ReservedNamespaces(), ns)
}

// MayBindWildcard: the workload may bind `*` as namespace or service account: its own
// `allowWildcard` and the platform's exemption, `platform.wildcardWorkloads` (docs/security.md).
func (f File) MayBindWildcard(w Workload) bool {
	return w.AllowWildcard && slices.Contains(f.Platform.WildcardWorkloads, w.Name)
}

// Workload returns the workload named name.
func (f File) Workload(name string) (Workload, bool) {
	for _, w := range f.Workloads {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

// PolicyPrefix is `vault.policyPrefix`, else the documented default (docs/configuration.md
// `vault.policyPrefix`, `vault.policyNaming`): with policyNaming `scoped` (the default)
// `<project>.<stack>.`, each upper-case letter written `~` + its lower case; with `legacy`
// `<project>-<stack>-` lower-cased. pulumiStack is the Pulumi stack the fixtures were evaluated as
// (stack.json's pulumiStack).
func (f File) PolicyPrefix(pulumiStack string) string {
	if f.Vault.PolicyPrefix != nil {
		return *f.Vault.PolicyPrefix
	}
	if f.Vault.PolicyNaming == "legacy" {
		return strings.ToLower(f.Project + "-" + pulumiStack + "-")
	}
	escape := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r >= 'A' && r <= 'Z' {
				b.WriteRune('~')
				r += 'a' - 'A'
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return escape(f.Project) + "." + escape(pulumiStack) + "."
}

// PolicyName is the name of the workload's generated policy as Vault stores it (trimmed and
// lower-cased, vault/policy_store.go sanitizeName): PolicyPrefix + the workload's name.
func (f File) PolicyName(pulumiStack string, w Workload) string {
	return strings.ToLower(strings.TrimSpace(f.PolicyPrefix(pulumiStack) + w.Name))
}

// TokenPolicies are the policies a workload's Vault token must carry, sorted: its generated
// policy and its `policies` (compared trimmed and lower-cased, as Vault stores names).
func (f File) TokenPolicies(pulumiStack string, w Workload) []string {
	set := map[string]bool{f.PolicyName(pulumiStack, w): true}
	for _, p := range w.ExtraPolicies() {
		set[strings.ToLower(strings.TrimSpace(p))] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// PulumiStack is the stack name the fixtures step ran the program as (stack.json).
func PulumiStack(t testing.TB, stack string) string {
	t.Helper()
	st := fixtures.Load[struct {
		PulumiStack string `json:"pulumiStack"`
	}](t, stack, "stack.json")
	if st.PulumiStack == "" {
		t.Fatalf("%s/stack.json names no pulumiStack", stack)
	}
	return st.PulumiStack
}

// EachStackWithMethod runs fn as a subtest for every fixture stack whose stack file asks for
// kubernetesAuth.method method (the default included), and fails when none does: an oracle that
// judged nothing must not pass.
func EachStackWithMethod(t *testing.T, method string, fn func(t *testing.T, stack string, st fixtures.Stack)) {
	t.Helper()
	ran := 0
	for _, stack := range fixtures.Stacks(t) {
		if Load(t, stack).KubernetesAuth.Method != method {
			continue
		}
		ran++
		st := fixtures.Load[fixtures.Stack](t, stack, "stack.json")
		t.Run(stack, func(t *testing.T) { fn(t, stack, st) })
	}
	if ran == 0 {
		t.Fatalf("no stack file asks for kubernetesAuth.method %s: the oracle judged nothing", method)
	}
}

// Load reads the stack file of a fixture stack (stack.json's `stackFile`) and applies the
// documented defaults.
func Load(t testing.TB, stack string) File {
	t.Helper()
	st := fixtures.Load[struct {
		StackFile string `json:"stackFile"`
	}](t, stack, "stack.json")
	if st.StackFile == "" {
		t.Fatalf("%s/stack.json names no stackFile", stack)
	}
	f, err := Read(fixtures.RepoRoot(t), st.StackFile)
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}
	return f
}

// Read parses a stack file (relative to root, or absolute: the generated stacks of the property
// test live in the fixture directory) and root's Pulumi.yaml.
func Read(root, file string) (File, error) {
	var project struct {
		Name string `json:"name"`
	}
	if err := readYAML(filepath.Join(root, "Pulumi.yaml"), &project); err != nil {
		return File{}, err
	}
	if project.Name == "" {
		return File{}, fmt.Errorf("Pulumi.yaml has no name")
	}
	var doc struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, file)
	}
	if err := readYAML(path, &doc); err != nil {
		return File{}, err
	}
	f := File{Path: file, Project: project.Name}
	fields := map[string]any{
		"vault": &f.Vault, "injector": &f.Injector, "kubernetesAuth": &f.KubernetesAuth, "kv": &f.KV, "workloads": &f.Workloads,
		"platform": &f.Platform,
	}
	for key, into := range fields {
		raw, ok := doc.Config[project.Name+":"+key]
		if !ok {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		if err := dec.Decode(into); err != nil {
			return File{}, fmt.Errorf("%s: %s:%s: %v", file, project.Name, key, err)
		}
	}
	if f.Vault.Address == "" {
		return File{}, fmt.Errorf("%s: no %s:vault.address", file, project.Name)
	}
	if f.KV.Path == "" {
		f.KV.Path = DefaultKVPath
	}
	if f.KubernetesAuth.Method == "" {
		f.KubernetesAuth.Method = DefaultMethod
	}
	if f.KubernetesAuth.Path == "" {
		f.KubernetesAuth.Path = DefaultAuthPath(f.KubernetesAuth.Method)
	}
	if f.KubernetesAuth.Reviewer == "" {
		f.KubernetesAuth.Reviewer = DefaultReviewer
	}
	if f.Vault.PolicyNaming == "" {
		f.Vault.PolicyNaming = DefaultPolicyNaming
	}
	if f.KubernetesAuth.TokenExpirationSeconds == 0 {
		f.KubernetesAuth.TokenExpirationSeconds = DefaultTokenExpiration
	}
	if f.Injector.Namespace == "" {
		f.Injector.Namespace = DefaultInjectorNamespace
	}
	if f.Injector.ReleaseName == "" {
		f.Injector.ReleaseName = DefaultReleaseName
	}
	if f.Vault.AllowedPolicies == nil {
		f.Vault.AllowedPolicies = []string{"default"}
	}
	for i := range f.Workloads {
		w := &f.Workloads[i]
		if w.TokenTTL == nil {
			ttl := DefaultTokenTTL
			w.TokenTTL = &ttl
		}
	}
	return f, nil
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}
