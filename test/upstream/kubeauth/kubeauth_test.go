// Package kubeauth runs Vault's Kubernetes auth plugin (github.com/hashicorp/vault-plugin-auth-kubernetes,
// the version go.mod pins) in-process with the auth config and roles the program registers, and
// logs in with service-account tokens shaped like AKS's against a loopback TokenReview API.
//
// What it shows, per stack using `kubernetesAuth.method: kubernetes`: the service account each
// Deployment runs as logs in with the role its pods name and gets exactly the role's policies;
// every other service account, namespace, issuer, audience (the pod's default token among them), key
// or expired token is refused by the plugin.
package kubeauth

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	kubeplugin "github.com/hashicorp/vault-plugin-auth-kubernetes"
	"github.com/hashicorp/vault/sdk/logical"

	"aksvault/upstream/akscluster"
	"aksvault/upstream/fixtures"
	"aksvault/upstream/pluginhost"
	"aksvault/upstream/stackfile"
	"aksvault/upstream/upstreamsrc"
	"aksvault/upstream/vaultinputs"
)

// The role a pod logs in with, as its template tells the injector.
const roleAnnotation = "vault.hashicorp.com/role"

func TestKubernetesAuthLogin(t *testing.T) {
	stackfile.EachStackWithMethod(t, "kubernetes", loginMatrix)
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
	// The accounts the stack file names, the same names in a namespace of an attacker's, and the
	// `default` account of each workload namespace.
	file := stackfile.Load(t, stack)
	for _, w := range file.Workloads {
		accounts = append(accounts, akscluster.ServiceAccount{Namespace: w.Namespace, Name: w.ServiceAccount},
			akscluster.ServiceAccount{Namespace: "intruder", Name: w.ServiceAccount}, akscluster.ServiceAccount{Namespace: w.Namespace, Name: "default"})
	}
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

	// Who must get in, from the stack file: each workload's service account in its namespace, with
	// its role (documented defaults applied), and a token for the audience every role binds
	// (docs/security.md: with the default reviewer Vault's own, `<vault.address>/v1/[<ns>/]auth/<path>`;
	// with clientJwt the API server's, `https://<cluster FQDN>`). Each Deployment's pods must name
	// that role, and their agents must log in with a projected token for exactly that audience:
	// the bound account logs in with the token its pod spec asks the kubelet for.
	audience := file.KubernetesRoleAudience(st.Cluster.FQDN)
	owner := map[string]stackfile.Workload{}
	allowed := map[binding]fixtures.ProjectedToken{}
	for _, w := range file.Workloads {
		owner[w.RoleName()] = w
		allowed[binding{w.RoleName(), akscluster.ServiceAccount{Namespace: w.Namespace, Name: w.ServiceAccount}}] =
			fixtures.ProjectedToken{Audience: audience, Expiration: time.Hour}
	}
	for _, d := range deployments {
		var tpl struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		decode(t, d.Template, &tpl)
		role := tpl.Metadata.Annotations[roleAnnotation]
		w, ok := file.Workload(d.Name)
		if !ok || role != w.RoleName() {
			t.Errorf("Deployment %s/%s asks for role %q; the stack file declares role %q for workload %s", d.Namespace, d.Name, role, w.RoleName(), d.Name)
			continue
		}
		tok := fixtures.AgentToken(t, d)
		if tok.Audience != audience {
			t.Errorf("Deployment %s/%s: the agents' projected token has audience %q; the role's audience is %q (stack file, docs/security.md)",
				d.Namespace, d.Name, tok.Audience, audience)
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
	pulumiStack := stackfile.PulumiStack(t, stack)

	// The plugin's own refusals (path_login.go parseAndValidateJWT): a service account name the role
	// is not bound to is refused first, then a namespace; both as 403.
	const plugin = "github.com/hashicorp/vault-plugin-auth-kubernetes"
	errName := upstreamsrc.Literal(t, plugin, "path_login.go", "service account name not authorized")
	errNamespace := upstreamsrc.Literal(t, plugin, "path_login.go", "namespace not authorized")

	roleNames := sortedKeys(roles)
	for _, role := range roleNames {
		w := owner[role]
		for _, sa := range accounts {
			// Anyone who can create a pod can ask the kubelet for a token with any audience: every
			// other account presents the role's audience, so only the role's binding can stop it.
			tok, want := allowed[binding{role, sa}]
			if !want {
				tok = fixtures.ProjectedToken{Audience: audience, Expiration: time.Hour}
			}
			resp, err := host.Login(role, cluster.Token(t, sa, akscluster.TokenSpec{
				Audiences: []string{tok.Audience}, Expiry: time.Now().Add(tok.Expiration),
			}))
			if !want {
				refusal := errNamespace
				if sa.Name != w.ServiceAccount {
					refusal = errName
				}
				if err == nil && resp != nil && resp.Auth != nil {
					t.Errorf("role %s: %s logged in; only %s/%s may (stack file)", role, sa, w.Namespace, w.ServiceAccount)
				} else if !codedError(err, http.StatusForbidden, refusal) {
					// A valid token of an existing service account: only the role's binding may refuse it.
					t.Errorf("role %s: %s refused with %v, want the plugin's 403 %q", role, sa, err, refusal)
				}
				continue
			}
			if err != nil || resp == nil || resp.Auth == nil {
				t.Errorf("role %s: bound service account %s refused: %v %v", role, sa, err, pluginhost.ErrText(resp))
				continue
			}
			if got, want := sortedCopy(resp.Auth.Policies), file.TokenPolicies(pulumiStack, w); !slices.Equal(got, want) {
				t.Errorf("role %s: %s got policies %v, want exactly %v (stack file)", role, sa, got, want)
			}
			if resp.Auth.Metadata["service_account_name"] != sa.Name || resp.Auth.Metadata["service_account_namespace"] != sa.Namespace {
				t.Errorf("role %s: token metadata %v does not name %s", role, resp.Auth.Metadata, sa)
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

	// The bound service account with a token the cluster did not issue this way: each is refused by
	// the check that names it, with that check's exact error. Vault checks the claims itself
	// (hashicorp/cap jwt.Validate, as 403), in its order: issuer (where the stack file turns
	// kubernetesAuth.validateIssuer on; off by default), audience (the role's), then expiry; so each
	// token below is right in every claim Vault checks before the one it gets wrong. A token
	// signed by another key passes Vault's parse (no public keys are configured) and is refused by
	// the API server's TokenReview: logical.ErrPermissionDenied.
	const capMod = "github.com/hashicorp/cap"
	errIssuer := upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "invalid issuer (iss) claim")
	errAudience := upstreamsrc.Format(t, capMod, "jwt/jwt.go", "invalid audience (aud) claim: %w",
		errors.New(upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "audience claim does not match any expected audience")))
	errExpired := upstreamsrc.Literal(t, capMod, "jwt/jwt.go", "invalid expiration time (exp) claim: token is expired")
	// Off unless the stack file turns it on (the documented default, upstream's: docs/design.md).
	validateIssuer := file.KubernetesAuth.ValidateIssuer != nil && *file.KubernetesAuth.ValidateIssuer
	for b, tok := range allowed {
		other := akscluster.OtherKey(t)
		aud := []string{tok.Audience}
		trimmed := strings.TrimSuffix(st.Cluster.IssuerURL, "/")
		coded := func(message string) func(error) bool {
			return func(err error) bool { return codedError(err, http.StatusForbidden, message) }
		}
		issuerRefusal := coded(errIssuer)
		if !validateIssuer {
			// Vault does not look at `iss`; the API server still refuses a token it did not issue.
			issuerRefusal = func(err error) bool { return errors.Is(err, logical.ErrPermissionDenied) }
		}
		cases := []struct {
			name    string
			refused func(error) bool
			want    string
			spec    akscluster.TokenSpec
		}{
			{"issuer without its trailing slash", issuerRefusal, errIssuer, akscluster.TokenSpec{Audiences: aud, Issuer: trimmed}},
			{"another cluster's issuer", issuerRefusal, errIssuer,
				akscluster.TokenSpec{Audiences: aud, Issuer: strings.Replace(st.Cluster.IssuerURL, ".azure.com/", ".azure.com/0", 1)}},
			{"the legacy issuer", issuerRefusal, errIssuer, akscluster.TokenSpec{Audiences: aud, Issuer: "kubernetes/serviceaccount"}},
			{"for another relying party", coded(errAudience), errAudience,
				akscluster.TokenSpec{Audiences: []string{"api://AzureADTokenExchange"}}},
			{"expired", coded(errExpired), errExpired,
				akscluster.TokenSpec{Audiences: aud, IssuedAt: time.Now().Add(-3 * time.Hour), Expiry: time.Now().Add(-2 * time.Hour)}},
			{"signed by another key", func(err error) bool { return errors.Is(err, logical.ErrPermissionDenied) }, logical.ErrPermissionDenied.Error(),
				akscluster.TokenSpec{Audiences: aud, SignWith: other}},
		}
		if !slices.Contains(cluster.APIAudiences, tok.Audience) {
			// The pod's own token (audience: the API server) is valid in the cluster, and refused
			// only because the role binds another audience. (With reviewer clientJwt the role binds
			// the API server's audience, so the pod's own token is the one it accepts.)
			cases = append(cases, struct {
				name    string
				refused func(error) bool
				want    string
				spec    akscluster.TokenSpec
			}{"the pod's default token (API server audience)", coded(errAudience), errAudience, akscluster.TokenSpec{}})
		}
		for _, c := range cases {
			resp, err := host.Login(b.role, cluster.Token(t, b.sa, c.spec))
			if err == nil && resp != nil && resp.Auth != nil {
				t.Errorf("role %s: %s logged in with a token %s", b.role, b.sa, c.name)
			} else if !c.refused(err) {
				t.Errorf("role %s: %s with a token %s: refused with %q, want exactly %q", b.role, b.sa, c.name, err, c.want)
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

// codedError: err is the plugin's logical.CodedError with exactly this status and message.
func codedError(err error, code int, message string) bool {
	var coded logical.HTTPCodedError
	return errors.As(err, &coded) && coded.Code() == code && coded.Error() == message
}
