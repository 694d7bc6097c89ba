// Package kubeauth runs Vault's Kubernetes auth plugin (github.com/hashicorp/vault-plugin-auth-kubernetes,
// the version go.mod pins) in-process with the auth config and roles the program registers, and
// logs in with service-account tokens shaped like AKS's against a loopback TokenReview API.
//
// What it shows, per stack using `kubernetesAuth.method: kubernetes`: the service account each
// Deployment runs as logs in with the role its pods name and gets exactly the role's policies;
// every other service account, namespace, issuer, key or expired token is refused by the plugin.
package kubeauth

import (
	"slices"
	"strings"
	"testing"
	"time"

	kubeplugin "github.com/hashicorp/vault-plugin-auth-kubernetes"

	"aksvault/upstream/akscluster"
	"aksvault/upstream/fixtures"
	"aksvault/upstream/pluginhost"
	"aksvault/upstream/vaultinputs"
)

// The role a pod logs in with, as its template tells the injector.
const roleAnnotation = "vault.hashicorp.com/role"

func TestKubernetesAuthLogin(t *testing.T) {
	fixtures.EachStackWithAuth(t, "kubernetes", loginMatrix)
}

// AKS's default audiences of a pod's service-account token: the API server URL, and the FQDN
// in quotes (a quirk of AKS's --api-audiences, seen in the `aud` of every AKS-issued token).
func aksAudiences(fqdn string) []string {
	return []string{"https://" + fqdn, `"` + fqdn + `"`}
}

type binding struct {
	role string
	sa   akscluster.ServiceAccount
}

func loginMatrix(t *testing.T, stack string, st fixtures.Stack) {
	raw := vaultinputs.LoadRaw(t, stack)
	kube := fixtures.Load[vaultinputs.Kubernetes](t, stack, "kubernetes.json")
	deployments := fixtures.Load[[]fixtures.Deployment](t, stack, "deployments.json")

	// The cluster as the program built it: its service accounts, the reviewer's token Secret and
	// who is bound to system:auth-delegator.
	cluster := akscluster.New(t, st.Cluster.IssuerURL, aksAudiences(st.Cluster.FQDN))
	var accounts []akscluster.ServiceAccount
	for _, sa := range kube.ServiceAccounts {
		accounts = append(accounts, akscluster.ServiceAccount{Namespace: sa.Namespace, Name: sa.Name})
		cluster.AddServiceAccount(accounts[len(accounts)-1])
	}
	for _, tok := range kube.ReviewerTokens {
		cluster.AddLegacyToken(tok.JWT, akscluster.ServiceAccount{Namespace: tok.Namespace, Name: tok.ServiceAccount})
	}
	for _, crb := range kube.ClusterRoleBindings {
		if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != "system:auth-delegator" {
			continue
		}
		for _, s := range crb.Subjects {
			if s.Kind == "ServiceAccount" {
				cluster.GrantAuthDelegator(akscluster.ServiceAccount{Namespace: s.Namespace, Name: s.Name})
			}
		}
	}
	// Service accounts every cluster has, or an attacker can create in a namespace of their own.
	for _, ns := range kube.Namespaces {
		accounts = append(accounts, akscluster.ServiceAccount{Namespace: ns.Name, Name: "default"})
	}
	for _, d := range deployments {
		accounts = append(accounts, akscluster.ServiceAccount{Namespace: "intruder", Name: d.ServiceAccount})
	}
	accounts = append(accounts, akscluster.ServiceAccount{Namespace: "kube-system", Name: "default"})
	accounts = akscluster.Unique(accounts)
	for _, sa := range accounts {
		cluster.AddServiceAccount(sa)
	}
	api := cluster.StartTokenReviewAPI(t)

	host := pluginhost.Start(t, kubeplugin.Factory)

	// The auth config the program writes to auth/<path>/config.
	var configs []map[string]any
	for _, c := range raw.AuthBackendConfigs {
		if vaultinputs.String(c, "backend") == st.Auth.Path {
			configs = append(configs, c)
		}
	}
	if len(configs) != 1 {
		t.Fatalf("want one auth backend config on %q, found %d", st.Auth.Path, len(configs))
	}
	body := vaultinputs.Body(configs[0])
	// The program must point Vault at this cluster's API server with this cluster's CA; only then
	// does the oracle swap both for the loopback TokenReview API and its CA (a real API server is
	// not reachable here), leaving every other setting as the program wrote it.
	if got := body["kubernetes_host"]; got != st.Cluster.APIServerURL {
		t.Fatalf("kubernetes_host = %v, want the cluster's API server %s", got, st.Cluster.APIServerURL)
	}
	if got := body["kubernetes_ca_cert"]; got != st.Cluster.CACertPEM {
		t.Fatalf("kubernetes_ca_cert is not the cluster's CA")
	}
	body["kubernetes_host"] = api.URL
	body["kubernetes_ca_cert"] = akscluster.CACertPEM(api)
	host.Write(t, "config", body)

	// The roles the program writes to auth/<path>/role/<name>.
	roles := vaultinputs.WriteRoles(t, host, raw.Roles, st.Auth.Path)

	// Who must get in: each Deployment's service account, with the role its pods ask for.
	allowed := map[binding]bool{}
	for _, d := range deployments {
		var tpl struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		decode(t, d.Template, &tpl)
		role := tpl.Metadata.Annotations[roleAnnotation]
		if _, ok := roles[role]; !ok {
			t.Fatalf("Deployment %s/%s asks for role %q, which the program does not write", d.Namespace, d.Name, role)
		}
		allowed[binding{role, akscluster.ServiceAccount{Namespace: d.Namespace, Name: d.ServiceAccount}}] = true
	}

	roleNames := sortedKeys(roles)
	for _, role := range roleNames {
		for _, sa := range accounts {
			want := allowed[binding{role, sa}]
			resp, err := host.Login(role, cluster.Token(t, sa, akscluster.TokenSpec{}))
			if !want {
				if err == nil && resp != nil && resp.Auth != nil {
					t.Errorf("role %s: %s logged in; only its bound service account may", role, sa)
				} else if !refusedByBinding(err) {
					// A valid token of an existing service account: only the role's binding may refuse it.
					t.Errorf("role %s: %s refused for another reason than the role's binding: %v", role, sa, err)
				}
				continue
			}
			if err != nil || resp == nil || resp.Auth == nil {
				t.Errorf("role %s: bound service account %s refused: %v %v", role, sa, err, pluginhost.ErrText(resp))
				continue
			}
			wantPolicies := sortedCopy(vaultinputs.Strings(roles[role], "tokenPolicies"))
			if got := sortedCopy(resp.Auth.Policies); !slices.Equal(got, wantPolicies) {
				t.Errorf("role %s: %s got policies %v, want exactly %v", role, sa, got, wantPolicies)
			}
			if resp.Auth.Metadata["service_account_name"] != sa.Name || resp.Auth.Metadata["service_account_namespace"] != sa.Namespace {
				t.Errorf("role %s: token metadata %v does not name %s", role, resp.Auth.Metadata, sa)
			}
			if ttl, ok := roles[role]["tokenTtl"].(float64); ok && resp.Auth.TTL != time.Duration(ttl)*time.Second {
				t.Errorf("role %s: token TTL %s, want %ds", role, resp.Auth.TTL, int(ttl))
			}
			t.Logf("role %s: %s logged in with policies %v", role, sa, resp.Auth.Policies)
		}
	}

	// The bound service account with a token the cluster did not issue this way: each is refused.
	for b := range allowed {
		other := akscluster.OtherKey(t)
		trimmed := strings.TrimSuffix(st.Cluster.IssuerURL, "/")
		// Each case names the check that must refuse it: Vault's own (issuer, expiry) where the
		// program configured Vault to check, else the API server's TokenReview (signature; the
		// issuer too when Vault's iss check is off, upstream's default: the API server accepts
		// only its own issuers, and the plugin answers its refusal with "permission denied").
		iss := "iss"
		if off, _ := body["disable_iss_validation"].(bool); off {
			iss = "permission denied"
		}
		cases := []struct {
			name, refusal string
			spec          akscluster.TokenSpec
		}{
			{"issuer without its trailing slash", iss, akscluster.TokenSpec{Issuer: trimmed}},
			{"another cluster's issuer", iss, akscluster.TokenSpec{Issuer: strings.Replace(st.Cluster.IssuerURL, ".azure.com/", ".azure.com/0", 1)}},
			{"the legacy issuer", iss, akscluster.TokenSpec{Issuer: "kubernetes/serviceaccount"}},
			{"expired", "exp", akscluster.TokenSpec{IssuedAt: time.Now().Add(-3 * time.Hour), Expiry: time.Now().Add(-2 * time.Hour)}},
			{"signed by another key", "permission denied", akscluster.TokenSpec{SignWith: other}},
		}
		for _, c := range cases {
			resp, err := host.Login(b.role, cluster.Token(t, b.sa, c.spec))
			if err == nil && resp != nil && resp.Auth != nil {
				t.Errorf("role %s: %s logged in with a token %s", b.role, b.sa, c.name)
			} else if !strings.Contains(err.Error(), c.refusal) {
				t.Errorf("role %s: %s with a token %s: refused with %q, want the %q check", b.role, b.sa, c.name, err, c.refusal)
			} else {
				t.Logf("role %s: %s with a token %s: refused (%v)", b.role, b.sa, c.name, err)
			}
		}
	}

	// Refusals above must come from Vault's checks, not from a stand-in that refuses everything:
	// the API server did authenticate the bound service accounts, through the program's reviewer.
	authenticated := 0
	for _, r := range cluster.Reviews() {
		if r.Authenticated {
			authenticated++
		}
		if r.Error == "forbidden" || strings.HasPrefix(r.Error, "caller:") {
			t.Errorf("the reviewer Vault calls TokenReview as was refused by the API server (%s): %s", r.Caller, r.Error)
		}
	}
	if authenticated < len(allowed) {
		t.Errorf("the TokenReview API authenticated %d tokens, fewer than the %d bound service accounts", authenticated, len(allowed))
	}
}

// refusedByBinding: the plugin's refusal of a service account or namespace the role is not
// bound to (path_login.go parseAndValidateJWT).
func refusedByBinding(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "service account name not authorized") || strings.Contains(err.Error(), "namespace not authorized"))
}
