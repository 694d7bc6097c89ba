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
	"aksvault/upstream/pluginhost"
)

// Kubernetes is kubernetes.json, as the fixtures package reads it.
type Kubernetes = fixtures.Kubernetes

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

// WriteRoles writes every role registered on the auth mount at path to the plugin (role/<name>),
// as Vault's API would receive them, and returns them by name. It fails the test when there is none.
func WriteRoles(t testing.TB, host *pluginhost.Host, registered []map[string]any, path string) map[string]map[string]any {
	t.Helper()
	roles := map[string]map[string]any{}
	for _, r := range registered {
		if String(r, "backend") != path {
			continue
		}
		name := String(r, "roleName")
		roles[name] = r
		host.Write(t, "role/"+name, Body(r, "roleName"))
	}
	if len(roles) == 0 {
		t.Fatalf("no roles on the auth path %s", path)
	}
	return roles
}
