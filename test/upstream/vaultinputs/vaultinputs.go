// Package vaultinputs turns what the program registers with the Vault provider (vault.json, as
// the fixtures step recorded it) into the request bodies the provider sends to Vault's API, and
// reads the Kubernetes side (kubernetes.json) the auth oracles need. Standard library only.
package vaultinputs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"aksvault/upstream/fixtures"
)

// Kubernetes is kubernetes.json.
type Kubernetes struct {
	Namespaces []struct {
		Name    string            `json:"name"`
		Labels  map[string]string `json:"labels"`
		Created bool              `json:"created"`
	} `json:"namespaces"`
	ServiceAccounts []struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"serviceAccounts"`
	ClusterRoleBindings []struct {
		Name    string `json:"name"`
		RoleRef struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"roleRef"`
		Subjects []struct {
			Kind      string `json:"kind"`
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"subjects"`
	} `json:"clusterRoleBindings"`
	ReviewerTokens []struct {
		Name           string `json:"name"`
		Namespace      string `json:"namespace"`
		ServiceAccount string `json:"serviceAccount"`
		JWT            string `json:"jwt"`
	} `json:"reviewerTokens"`
}

// Raw is vault.json as plain JSON objects: every input the program registered, including any the
// typed fixtures reader does not name, so a new input reaches the plugin without changing this.
type Raw struct {
	AuthBackends       []map[string]any `json:"authBackends"`
	AuthBackendConfigs []map[string]any `json:"authBackendConfigs"`
	Roles              []map[string]any `json:"roles"`
	// JWT auth (kubernetesAuth.method jwt): vault.jwt.AuthBackend and AuthBackendRole inputs.
	JWTBackends []map[string]any `json:"jwtBackends"`
	JWTRoles    []map[string]any `json:"jwtRoles"`
}

// LoadRaw reads vault.json of one stack as Raw.
func LoadRaw(t testing.TB, stack string) Raw {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures.Dir(t), stack, "vault.json"))
	if err != nil {
		t.Fatalf("reading vault.json: %v", err)
	}
	var r Raw
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decoding %s/vault.json: %v", stack, err)
	}
	return r
}

// Snake is the Terraform (and Vault API) name of a Pulumi input: `tokenReviewerJwt` ->
// `token_reviewer_jwt`. The Vault provider's schema names are the API's field names for the
// resources this program uses (terraform-provider-vault vault/resource_kubernetes_auth_backend_*.go,
// resource_jwt_auth_backend*.go: d.Get("<name>") is written to data["<name>"]).
func Snake(camel string) string {
	var b strings.Builder
	for i, r := range camel {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Body is the request body for one registered resource: every input under its API name, minus
// the ones that are part of the URL (skip) and the fixtures' bookkeeping (resource, secretInputs).
func Body(inputs map[string]any, skip ...string) map[string]any {
	out := map[string]any{}
	for k, v := range inputs {
		if k == "resource" || k == "secretInputs" || k == "backend" || contains(skip, k) {
			continue
		}
		out[Snake(k)] = v
	}
	return out
}

// String reads a string input ("" when absent).
func String(inputs map[string]any, key string) string {
	s, _ := inputs[key].(string)
	return s
}

// Strings reads a list-of-strings input.
func Strings(inputs map[string]any, key string) []string {
	list, _ := inputs[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
