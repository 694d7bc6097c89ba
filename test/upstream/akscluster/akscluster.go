// Package akscluster plays the identity side of an AKS cluster for the auth oracles: the
// service-account signing key, the service-account tokens the kubelet projects into pods, the
// TokenReview API (for Vault's Kubernetes auth) and the OIDC issuer's discovery document and keys
// (for Vault's JWT auth), each served on loopback over TLS.
//
// It is the one stand-in of the auth oracles; what judges the program is the Vault plugin code the
// oracles run against it. The stand-in behaves like kube-apiserver where the plugins depend on it
// (cited per function), and never decides anything from the program's own Vault settings.
package akscluster

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceAccount names one service account of the cluster.
type ServiceAccount struct {
	Namespace string
	Name      string
}

// Unique returns the accounts without repeats, in first-seen order (the login matrices list each once).
func Unique(in []ServiceAccount) []ServiceAccount {
	seen := map[ServiceAccount]bool{}
	var out []ServiceAccount
	for _, sa := range in {
		if !seen[sa] {
			seen[sa] = true
			out = append(out, sa)
		}
	}
	return out
}

func (s ServiceAccount) String() string { return s.Namespace + "/" + s.Name }

// Username is how Kubernetes names a service account as a user (TokenReview status.user.username,
// the `sub` of its tokens).
func (s ServiceAccount) Username() string {
	return "system:serviceaccount:" + s.Namespace + ":" + s.Name
}

// Cluster is one cluster's identity: its signing key, its issuer, its service accounts and who
// may call TokenReview.
type Cluster struct {
	// Issuer is the cluster's service-account issuer (`--service-account-issuer`): AKS's OIDC
	// issuer URL, with its trailing slash, when the OIDC issuer is on.
	Issuer string
	// APIAudiences are the audiences the API server accepts when a TokenReview names none
	// (`--api-audiences`), and the ones a pod's default token carries.
	APIAudiences []string

	key *rsa.PrivateKey
	kid string

	mu             sync.Mutex
	accounts       map[ServiceAccount]string // -> uid
	legacyTokens   map[string]ServiceAccount // token Secret JWTs (opaque bearer tokens here)
	authDelegators map[ServiceAccount]bool
	reviews        []Review
}

// Review is one TokenReview call the API server answered.
type Review struct {
	Caller        string // the bearer's service account, or "" when it was not one
	Authenticated bool
	Username      string
	Error         string
}

// New makes a cluster with a fresh RSA key (AKS signs service-account tokens with RS256).
func New(t testing.TB, issuer string, apiAudiences []string) *Cluster {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating the cluster's signing key: %v", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// kube-apiserver's key ID: the hash of the public key (pkg/serviceaccount/jwt.go keyIDFromPublicKey).
	sum := sha256.Sum256(der)
	return &Cluster{
		Issuer:         issuer,
		APIAudiences:   apiAudiences,
		key:            key,
		kid:            hex.EncodeToString(sum[:16]),
		accounts:       map[ServiceAccount]string{},
		legacyTokens:   map[string]ServiceAccount{},
		authDelegators: map[ServiceAccount]bool{},
	}
}

// AddServiceAccount creates a service account (idempotent) and returns its uid.
func (c *Cluster) AddServiceAccount(sa ServiceAccount) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if uid, ok := c.accounts[sa]; ok {
		return uid
	}
	sum := sha256.Sum256([]byte(sa.String()))
	h := hex.EncodeToString(sum[:])
	uid := h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
	c.accounts[sa] = uid
	return uid
}

// AddLegacyToken registers a token Secret's JWT (type kubernetes.io/service-account-token) for sa:
// the API server authenticates that bearer as sa (the token controller's record, not a signature).
func (c *Cluster) AddLegacyToken(jwt string, sa ServiceAccount) {
	c.AddServiceAccount(sa)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.legacyTokens[jwt] = sa
}

// GrantAuthDelegator binds sa to the ClusterRole system:auth-delegator (create tokenreviews).
func (c *Cluster) GrantAuthDelegator(sa ServiceAccount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.authDelegators[sa] = true
}

// Reviews returns the TokenReview calls answered so far.
func (c *Cluster) Reviews() []Review {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reviews)
}

// TokenSpec describes a token to mint. Zero values take the cluster's: its issuer, its API
// audiences, one hour of validity, its signing key.
type TokenSpec struct {
	Issuer    string
	Audiences []string
	IssuedAt  time.Time
	Expiry    time.Time
	// SignWith signs with another key (a token from some other cluster).
	SignWith *rsa.PrivateKey
	// Pod names the pod the token is bound to. Default `<sa>-0`.
	Pod string
}

// Token mints a bound service-account token as the kubelet gets it from the TokenRequest API for
// a pod (AKS, Kubernetes >= 1.24): RS256, kid header, `iss` the issuer, `sub`
// system:serviceaccount:<ns>:<sa>, `aud`, `exp`/`iat`/`nbf`, and the private `kubernetes.io`
// claim naming namespace, pod and service account (pkg/serviceaccount/claims.go).
func (c *Cluster) Token(t testing.TB, sa ServiceAccount, spec TokenSpec) string {
	t.Helper()
	uid := c.AddServiceAccount(sa)
	issuer := spec.Issuer
	if issuer == "" {
		issuer = c.Issuer
	}
	aud := spec.Audiences
	if aud == nil {
		aud = c.APIAudiences
	}
	iat := spec.IssuedAt
	if iat.IsZero() {
		iat = time.Now().Add(-time.Minute)
	}
	exp := spec.Expiry
	if exp.IsZero() {
		exp = iat.Add(time.Hour)
	}
	pod := spec.Pod
	if pod == "" {
		pod = sa.Name + "-0"
	}
	key := c.key
	if spec.SignWith != nil {
		key = spec.SignWith
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: c.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{
		"iss": issuer,
		"sub": sa.Username(),
		"aud": aud,
		"iat": iat.Unix(),
		"nbf": iat.Unix(),
		"exp": exp.Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      sa.Namespace,
			"pod":            map[string]any{"name": pod, "uid": "6f0a3c1e-0000-4000-8000-" + uid[len(uid)-12:]},
			"serviceaccount": map[string]any{"name": sa.Name, "uid": uid},
		},
	}
	s, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// OtherKey is a signing key the cluster does not trust.
func OtherKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

type saClaims struct {
	josejwt.Claims
	Kubernetes struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

// authenticate does what kube-apiserver's service-account token authenticator does with a bound
// token (pkg/serviceaccount/jwt.go): signature by a trusted key, issuer, expiry, audiences
// intersecting the wanted ones, and a service account that exists with the token's uid. It returns
// the service account and the audiences that matched.
func (c *Cluster) authenticate(token string, wantAud []string) (ServiceAccount, []string, error) {
	parsed, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return ServiceAccount{}, nil, fmt.Errorf("malformed token: %w", err)
	}
	var claims saClaims
	if err := parsed.Claims(&c.key.PublicKey, &claims); err != nil {
		return ServiceAccount{}, nil, fmt.Errorf("invalid signature: %w", err)
	}
	if claims.Issuer != c.Issuer {
		return ServiceAccount{}, nil, fmt.Errorf("issuer %q is not this cluster's", claims.Issuer)
	}
	if err := claims.ValidateWithLeeway(josejwt.Expected{Time: time.Now()}, 0); err != nil {
		return ServiceAccount{}, nil, fmt.Errorf("token expired or not yet valid: %w", err)
	}
	if len(wantAud) == 0 {
		wantAud = c.APIAudiences
	}
	var matched []string
	for _, a := range wantAud {
		if claims.Audience.Contains(a) {
			matched = append(matched, a)
		}
	}
	if len(matched) == 0 {
		return ServiceAccount{}, nil, fmt.Errorf("token audiences %v do not include any of %v", []string(claims.Audience), wantAud)
	}
	sa := ServiceAccount{Namespace: claims.Kubernetes.Namespace, Name: claims.Kubernetes.ServiceAccount.Name}
	if claims.Subject != sa.Username() {
		return ServiceAccount{}, nil, fmt.Errorf("subject %q does not match the kubernetes.io claims", claims.Subject)
	}
	c.mu.Lock()
	uid, ok := c.accounts[sa]
	c.mu.Unlock()
	if !ok || uid != claims.Kubernetes.ServiceAccount.UID {
		return ServiceAccount{}, nil, fmt.Errorf("service account %s does not exist", sa)
	}
	return sa, matched, nil
}

// StartTokenReviewAPI serves POST /apis/authentication.k8s.io/v1/tokenreviews over TLS on loopback
// and returns the server (its URL and certificate stand in for the API server's URL and cluster CA).
//
// As kube-apiserver: the caller's bearer must authenticate (a token Secret's JWT, or a bound
// token) else 401; the caller needs `create tokenreviews` (system:auth-delegator) else 403; the
// reviewed token's verdict goes in status (authenticated, user, audiences, error), not in the
// HTTP status.
func (c *Cluster) StartTokenReviewAPI(t testing.TB) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apis/authentication.k8s.io/v1/tokenreviews", func(w http.ResponseWriter, r *http.Request) {
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			c.record(Review{Error: "no bearer"})
			writeStatus(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		c.mu.Lock()
		caller, legacy := c.legacyTokens[bearer]
		c.mu.Unlock()
		if !legacy {
			var err error
			if caller, _, err = c.authenticate(bearer, nil); err != nil {
				c.record(Review{Error: "caller: " + err.Error()})
				writeStatus(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
		}
		c.mu.Lock()
		allowed := c.authDelegators[caller]
		c.mu.Unlock()
		if !allowed {
			c.record(Review{Caller: caller.String(), Error: "forbidden"})
			writeStatus(w, http.StatusForbidden, fmt.Sprintf(`tokenreviews.authentication.k8s.io is forbidden: User "%s" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope`, caller.Username()))
			return
		}
		var in authv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeStatus(w, http.StatusBadRequest, err.Error())
			return
		}
		out := authv1.TokenReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenReview"},
			Spec:     in.Spec,
		}
		sa, matched, err := c.authenticate(in.Spec.Token, in.Spec.Audiences)
		if err != nil {
			out.Status = authv1.TokenReviewStatus{Authenticated: false, Error: "[invalid bearer token, " + err.Error() + "]"}
		} else {
			c.mu.Lock()
			uid := c.accounts[sa]
			c.mu.Unlock()
			out.Status = authv1.TokenReviewStatus{
				Authenticated: true,
				Audiences:     matched,
				User: authv1.UserInfo{
					Username: sa.Username(),
					UID:      uid,
					Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + sa.Namespace, "system:authenticated"},
				},
			}
		}
		c.record(Review{Caller: caller.String(), Authenticated: out.Status.Authenticated, Username: out.Status.User.Username, Error: out.Status.Error})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(out)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func (c *Cluster) record(r Review) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reviews = append(c.reviews, r)
}

func writeStatus(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure, Message: message, Code: int32(code),
		Reason: metav1.StatusReason(http.StatusText(code)),
	})
}

// CACertPEM is the PEM of the certificate a loopback TLS server presents (httptest's own CA).
func CACertPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

// StartIssuer serves the cluster's OIDC issuer on loopback over TLS, as AKS publishes it: the
// discovery document at <issuer>.well-known/openid-configuration and the signing keys at
// <issuer>openid/v1/jwks. The issuer URL is the server's URL plus path, with a trailing slash
// like AKS's (https://<region>.oic.prod-aks.azure.com/<tenant>/<cluster>/); the discovery
// document's `issuer` is exactly that string, and the cluster's Issuer becomes it.
func (c *Cluster) StartIssuer(t testing.TB, path string) *httptest.Server {
	t.Helper()
	path = "/" + strings.Trim(path, "/") + "/"
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	issuer := srv.URL + path
	// go-oidc fetches strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration".
	mux.HandleFunc("GET "+path+".well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                issuer,
			"jwks_uri":                              issuer + "openid/v1/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+path+"openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: &c.key.PublicKey, KeyID: c.kid, Algorithm: string(jose.RS256), Use: "sig",
		}}})
	})
	c.Issuer = issuer
	return srv
}
