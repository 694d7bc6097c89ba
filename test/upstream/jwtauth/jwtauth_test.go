// Package jwtauth runs Vault's JWT auth plugin (github.com/hashicorp/vault-plugin-auth-jwt, the
// version go.mod pins) in-process with the mount config and roles the program registers for
// `kubernetesAuth.method: jwt`, against the cluster's OIDC issuer (discovery document and keys)
// served on loopback over TLS, and logs in with the tokens the kubelet would project into each
// Deployment's pods.
//
// What it shows: each Deployment's service account, with the token its pod spec asks the kubelet
// for, logs in with the role its pods name and gets exactly the role's policies; every other
// service account, a token for another audience or issuer, an expired token and a token signed by
// another key are refused by the plugin.
package jwtauth

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	jwtplugin "github.com/hashicorp/vault-plugin-auth-jwt"
	"github.com/hashicorp/vault/sdk/logical"

	"aksvault/upstream/akscluster"
	"aksvault/upstream/fixtures"
	"aksvault/upstream/pluginhost"
	"aksvault/upstream/stackfile"
	"aksvault/upstream/upstreamsrc"
	"aksvault/upstream/vaultinputs"
)

const (
	roleAnnotation = "vault.hashicorp.com/role"
	// The pod volume whose token the agent logs in with (vault-k8s agent-inject annotations).
	tokenVolumeAnnotation = "vault.hashicorp.com/agent-service-account-token-volume-name"
)

// Inputs of vault.jwt.AuthBackend that configure the mount (sys/auth), not auth/<path>/config
// (terraform-provider-vault vault/resource_jwt_auth_backend.go: jwtAuthBackendCreate mounts with
// type, path, description, local; jwtAuthBackendUpdate writes the rest to <path>/config).
var mountInputs = []string{"path", "type", "description", "local", "tune", "disableRemount", "namespace"}

func TestJWTAuthLogin(t *testing.T) {
	stackfile.EachStackWithMethod(t, "jwt", loginMatrix)
}

type binding struct {
	role string
	sa   akscluster.ServiceAccount
}

// podToken is what the kubelet mints for a pod from its projected serviceAccountToken source.
type podToken struct {
	audience   string
	expiration time.Duration
}

type podTemplate struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		ServiceAccountName string `json:"serviceAccountName"`
		Volumes            []struct {
			Name      string `json:"name"`
			Projected *struct {
				Sources []struct {
					ServiceAccountToken *struct {
						Audience          string `json:"audience"`
						ExpirationSeconds int    `json:"expirationSeconds"`
					} `json:"serviceAccountToken"`
				} `json:"sources"`
			} `json:"projected"`
		} `json:"volumes"`
	} `json:"spec"`
}

// tokenOf returns the projected token the agent's volume holds (an empty audience means the
// API server's default, as for the pod's own token).
func tokenOf(t *testing.T, d fixtures.Deployment) (podTemplate, podToken) {
	var tpl podTemplate
	if err := json.Unmarshal(d.Template, &tpl); err != nil {
		t.Fatal(err)
	}
	volume := tpl.Metadata.Annotations[tokenVolumeAnnotation]
	if volume == "" {
		t.Fatalf("Deployment %s/%s: no %s annotation: the agent would log in with the pod's default token", d.Namespace, d.Name, tokenVolumeAnnotation)
	}
	for _, v := range tpl.Spec.Volumes {
		if v.Name != volume || v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if sat := src.ServiceAccountToken; sat != nil {
				exp := sat.ExpirationSeconds
				if exp == 0 {
					exp = 3600 // the API default (core/v1 ServiceAccountTokenProjection)
				}
				return tpl, podToken{audience: sat.Audience, expiration: time.Duration(exp) * time.Second}
			}
		}
	}
	t.Fatalf("Deployment %s/%s: volume %q is not a projected service-account token", d.Namespace, d.Name, volume)
	return tpl, podToken{}
}

func loginMatrix(t *testing.T, stack string, st fixtures.Stack) {
	raw := vaultinputs.LoadRaw(t, stack)
	kube := fixtures.Load[vaultinputs.Kubernetes](t, stack, "kubernetes.json")
	deployments := fixtures.Load[[]fixtures.Deployment](t, stack, "deployments.json")

	var mounts []map[string]any
	for _, b := range raw.JWTBackends {
		if vaultinputs.String(b, "path") == st.Auth.Path {
			mounts = append(mounts, b)
		}
	}
	if len(mounts) != 1 {
		t.Fatalf("want one JWT auth backend at %q, found %d", st.Auth.Path, len(mounts))
	}
	mount := mounts[0]
	if got := vaultinputs.String(mount, "type"); got != "jwt" {
		t.Fatalf("the JWT backend is mounted with type %q", got)
	}
	body := vaultinputs.Body(mount, mountInputs...)
	// The issuer moves to loopback: a local TLS server with the AKS issuer's path, whose discovery
	// document names the loopback URL (with the trailing slash) as `issuer`, and whose CA is given
	// as oidc_discovery_ca_pem (AKS's issuer has a public certificate; the program sets no CA).
	// The program's URLs keep their own path: only the AKS origin is swapped for the loopback one,
	// so a URL that differs from the issuer's (a missing trailing slash, another path) still
	// differs, and the plugin decides what that means.
	if _, ok := body["oidc_discovery_ca_pem"]; ok {
		t.Fatalf("the program sets oidc_discovery_ca_pem, which the oracle would overwrite")
	}
	aksIssuer, err := url.Parse(st.Cluster.IssuerURL)
	if err != nil {
		t.Fatal(err)
	}
	cluster := akscluster.New(t, "", nil)
	issuerServer := cluster.StartIssuer(t, aksIssuer.Path)
	// A pod's default token (no projected volume): the API server URL as audience, as on AKS.
	cluster.APIAudiences = []string{"https://" + st.Cluster.FQDN, `"` + st.Cluster.FQDN + `"`}
	for _, key := range []string{"oidc_discovery_url", "bound_issuer"} {
		s, _ := body[key].(string)
		u, err := url.Parse(s)
		if err != nil || u.Scheme != aksIssuer.Scheme || u.Host != aksIssuer.Host {
			t.Fatalf("%s = %q: not on the cluster's issuer %s", key, s, st.Cluster.IssuerURL)
		}
		body[key] = strings.TrimSuffix(issuerServer.URL, "/") + u.Path
	}
	body["oidc_discovery_ca_pem"] = akscluster.CACertPEM(issuerServer)

	host := pluginhost.Start(t, jwtplugin.Factory)
	host.Write(t, "config", body)

	roles := vaultinputs.WriteRoles(t, host, raw.JWTRoles, st.Auth.Path)
	if len(raw.Roles) != 0 || len(raw.AuthBackendConfigs) != 0 {
		t.Errorf("method jwt, but the program also writes Kubernetes auth config or roles")
	}

	// Who must get in, from the stack file: each workload's service account in its namespace, with
	// its role, and a token for the stack's audience (kubernetesAuth.audience, else the documented
	// default) living kubernetesAuth.tokenExpirationSeconds. A Deployment's pods must ask the kubelet
	// for exactly that token; the bound account logs in with the token its pod spec asks for.
	file := stackfile.Load(t, stack)
	pulumiStack := stackfile.PulumiStack(t, stack)
	declared := podToken{audience: file.JWTAudience(), expiration: time.Duration(file.KubernetesAuth.TokenExpirationSeconds) * time.Second}
	owner := map[string]stackfile.Workload{}
	allowed := map[binding]podToken{}
	var accounts []akscluster.ServiceAccount
	for _, w := range file.Workloads {
		sa := akscluster.ServiceAccount{Namespace: w.Namespace, Name: w.ServiceAccount}
		owner[w.RoleName()] = w
		allowed[binding{w.RoleName(), sa}] = declared
		accounts = append(accounts, sa, akscluster.ServiceAccount{Namespace: "intruder", Name: sa.Name}, akscluster.ServiceAccount{Namespace: w.Namespace, Name: "default"})
	}
	for _, d := range deployments {
		tpl, tok := tokenOf(t, d)
		role := tpl.Metadata.Annotations[roleAnnotation]
		w, ok := file.Workload(d.Name)
		if !ok || role != w.RoleName() || tpl.Spec.ServiceAccountName != w.ServiceAccount || d.Namespace != w.Namespace {
			t.Errorf("Deployment %s/%s runs as %s with role %q; the stack file declares %s/%s with role %q",
				d.Namespace, d.Name, tpl.Spec.ServiceAccountName, role, w.Namespace, w.ServiceAccount, w.RoleName())
			continue
		}
		if tok != declared {
			t.Errorf("Deployment %s/%s: the agent's projected token has audience %q and lifetime %s; the stack file says %q and %s",
				d.Namespace, d.Name, tok.audience, tok.expiration, declared.audience, declared.expiration)
		}
		allowed[binding{role, akscluster.ServiceAccount{Namespace: d.Namespace, Name: w.ServiceAccount}}] = tok
	}
	for role := range owner {
		if _, ok := roles[role]; !ok {
			t.Fatalf("the stack file declares role %q on %s, which the program does not write", role, st.Auth.Path)
		}
	}
	for role := range roles {
		if _, ok := owner[role]; !ok {
			t.Errorf("the program writes role %q, which no workload of the stack file declares", role)
		}
	}
	for _, sa := range kube.ServiceAccounts {
		accounts = append(accounts, akscluster.ServiceAccount{Namespace: sa.Namespace, Name: sa.Name})
	}
	accounts = akscluster.Unique(accounts)

	// The plugin wraps the validator's error (path_login.go pathLogin: "error validating token: %s");
	// the validator is hashicorp/cap's jwt.Validate, the signature check go-oidc's remote key set.
	const plugin, capMod, oidc = "github.com/hashicorp/vault-plugin-auth-jwt", "github.com/hashicorp/cap", "github.com/coreos/go-oidc/v3"
	refusal := func(cause string) string {
		return upstreamsrc.Format(t, plugin, "path_login.go", "error validating token: %s", cause)
	}
	errSubject := refusal(upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "invalid subject (sub) claim"))
	errAudience := refusal(upstreamsrc.Format(t, capMod, "jwt/jwt.go", "invalid audience (aud) claim: %w",
		errors.New(upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "audience claim does not match any expected audience"))))
	errIssuer := refusal(upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "invalid issuer (iss) claim"))
	errExpired := refusal(upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "invalid expiration time (exp) claim: token is expired"))
	errSignature := refusal(upstreamsrc.Format(t, capMod, "jwt/jwt.go", "error verifying token signature: %w",
		errors.New(upstreamsrc.Literal(t, oidc, "oidc/jwks.go", "failed to verify id token signature"))))

	roleNames := make([]string, 0, len(roles))
	for r := range roles {
		roleNames = append(roleNames, r)
	}
	sort.Strings(roleNames)
	for _, role := range roleNames {
		w := owner[role]
		// Anyone who can create a pod can ask the kubelet for a token with any audience: the
		// others get the bound pod's audience, so only the subject binding can stop them.
		audience := declared
		for _, sa := range accounts {
			tok, want := allowed[binding{role, sa}]
			if !want {
				tok = audience
			}
			resp, err := host.Login(role, cluster.Token(t, sa, akscluster.TokenSpec{Audiences: []string{tok.audience}, Expiry: time.Now().Add(tok.expiration)}))
			if !want {
				if err == nil {
					t.Errorf("role %s: %s logged in; only %s/%s may (stack file)", role, sa, w.Namespace, w.ServiceAccount)
				} else if !errorResponse(resp, err, errSubject) {
					t.Errorf("role %s: %s refused with %q, want exactly %q", role, sa, err, errSubject)
				}
				continue
			}
			if err != nil {
				t.Errorf("role %s: bound service account %s refused: %v", role, sa, err)
				continue
			}
			if got, want := sortedCopy(resp.Auth.Policies), file.TokenPolicies(pulumiStack, w); !slices.Equal(got, want) {
				t.Errorf("role %s: %s got policies %v, want exactly %v (stack file)", role, sa, got, want)
			}
			if resp.Auth.Alias == nil || resp.Auth.Alias.Name != sa.Username() {
				t.Errorf("role %s: entity alias %v, want %s (user_claim sub)", role, resp.Auth.Alias, sa.Username())
			}
			if resp.Auth.TTL != time.Duration(*w.TokenTTL)*time.Second {
				t.Errorf("role %s: token TTL %s, want the stack file's %ds", role, resp.Auth.TTL, *w.TokenTTL)
			}
			if w.TokenMaxTTL != nil && resp.Auth.MaxTTL != time.Duration(*w.TokenMaxTTL)*time.Second {
				t.Errorf("role %s: token max TTL %s, want the stack file's %ds", role, resp.Auth.MaxTTL, *w.TokenMaxTTL)
			}
			t.Logf("role %s: %s logged in with policies %v", role, sa, resp.Auth.Policies)
		}
	}

	// The bound service account with the wrong token: each refused by the check that names it,
	// with that check's exact error.
	for b, tok := range allowed {
		aud := []string{tok.audience}
		cases := []struct {
			name, refusal string
			spec          akscluster.TokenSpec
		}{
			{"the pod's default token (API server audience)", errAudience, akscluster.TokenSpec{Audiences: cluster.APIAudiences}},
			{"for another relying party", errAudience, akscluster.TokenSpec{Audiences: []string{"api://AzureADTokenExchange"}}},
			{"issuer without its trailing slash", errIssuer, akscluster.TokenSpec{Audiences: aud, Issuer: strings.TrimSuffix(cluster.Issuer, "/")}},
			{"another cluster's issuer", errIssuer, akscluster.TokenSpec{Audiences: aud, Issuer: cluster.Issuer + "other/"}},
			{"expired", errExpired, akscluster.TokenSpec{Audiences: aud, IssuedAt: time.Now().Add(-3 * time.Hour), Expiry: time.Now().Add(-2 * time.Hour)}},
			{"signed by another key", errSignature, akscluster.TokenSpec{Audiences: aud, SignWith: akscluster.OtherKey(t)}},
		}
		for _, c := range cases {
			resp, err := host.Login(b.role, cluster.Token(t, b.sa, c.spec))
			if err == nil {
				t.Errorf("role %s: %s logged in with a token %s", b.role, b.sa, c.name)
			} else if !errorResponse(resp, err, c.refusal) {
				t.Errorf("role %s: %s with a token %s: refused with %q, want exactly %q", b.role, b.sa, c.name, err, c.refusal)
			} else {
				t.Logf("role %s: %s with a token %s: refused (%v)", b.role, b.sa, c.name, err)
			}
		}
	}
}

// errorResponse: the plugin answered with an error response (logical.ErrorResponse) whose message
// is exactly message.
func errorResponse(resp *logical.Response, err error, message string) bool {
	return resp != nil && resp.IsError() && pluginhost.ErrText(resp) == message && err != nil && err.Error() == message
}

func sortedCopy(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return out
}
