// Package vaultkv serves Vault's HTTP API for the KV mounts a stack creates, on loopback over TLS,
// with Vault's own KV secrets engine (github.com/hashicorp/vault-plugin-secrets-kv, the version
// Vault v1.21.4 ships, built with its Factory in process over in-memory storage) behind each mount:
// versions, metadata, check-and-set, soft delete and destroy are the plugin's, not a stand-in's.
//
// The HTTP layer mirrors Vault's (http/logical.go, http/handler.go, vault/router.go) for what the
// Vault provider and Vault Agent's templates send: the token header, the Enterprise namespace
// header, the mount prefix stripped, the operation from the method (a write becomes create or
// update by the path's existence check), the response built by the SDK's
// LogicalResponseToHTTPResponse and the errors and status codes by its RespondErrorCommon and
// RespondError. One endpoint of Vault's core is answered from the mount table:
// sys/internal/ui/mounts/<path>, which the Vault API client asks before a KV read to learn the
// mount's version.
package vaultkv

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-uuid"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/helper/jsonutil"
	"github.com/hashicorp/vault/sdk/logical"

	"aksvault/upstream/fixtures"
)

// Token is the one token the server accepts (the provider's and the agent's alike: who may read
// what is the ACL oracle's question, not this one's).
const Token = "hvs.upstream-oracle-token"

// Server is one Vault (one Enterprise namespace) with its KV mounts.
type Server struct {
	// Namespace is the Vault Enterprise namespace the mounts live in ("" for root).
	Namespace string
	srv       *httptest.Server
	caFile    string

	mu       sync.Mutex
	mounts   map[string]*mount
	requests []string
}

type mount struct {
	path    string
	typ     string
	options map[string]string
	backend logical.Backend
	storage logical.Storage
}

// Start serves an empty Vault (no mounts) in namespace.
func Start(t testing.TB, namespace string) *Server {
	t.Helper()
	s := &Server{Namespace: strings.Trim(namespace, "/"), mounts: map[string]*mount{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.caFile = filepath.Join(t.TempDir(), "vault-ca.pem")
	if err := os.WriteFile(s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// URL is the server's address; CAFile the PEM file of the CA its certificate chains to.
func (s *Server) URL() string    { return s.srv.URL }
func (s *Server) CAFile() string { return s.caFile }

// Mount enables a secrets engine at path as `vault secrets enable` (POST sys/mounts/<path>) does:
// type kv with the mount's options as the plugin's config (options.version "2": KV v2, else v1).
func (s *Server) Mount(t testing.TB, path, typ string, options map[string]string) {
	t.Helper()
	path = strings.Trim(path, "/")
	if typ != "kv" && typ != "kv-v2" {
		t.Fatalf("mount %s: type %q is not a KV engine", path, typ)
	}
	config := map[string]string{}
	for k, v := range options {
		config[k] = v
	}
	if typ == "kv-v2" {
		// vault/mount.go: type kv-v2 is kv with version 2.
		config["version"] = "2"
	}
	id, err := uuid.GenerateUUID()
	if err != nil {
		t.Fatal(err)
	}
	storage := &logical.InmemStorage{}
	ctx := context.Background()
	b, err := kv.Factory(ctx, &logical.BackendConfig{
		Logger:      hclog.NewNullLogger(),
		System:      logical.TestSystemView(),
		StorageView: storage,
		BackendUUID: id,
		Config:      config,
	})
	if err != nil {
		t.Fatalf("mount %s: the KV plugin refuses its config %v: %v", path, config, err)
	}
	if err := b.Initialize(ctx, &logical.InitializationRequest{Storage: storage}); err != nil {
		t.Fatalf("mount %s: %v", path, err)
	}
	t.Cleanup(func() { b.Cleanup(ctx) })
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mounts[path]; ok {
		t.Fatalf("path is already in use at %s/", path)
	}
	s.mounts[path] = &mount{path: path, typ: "kv", options: config, backend: b, storage: storage}
}

// Requests are the requests served so far: "<METHOD> <path> ns=<namespace>".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Client is a Vault API client (github.com/hashicorp/vault/api, what the Vault provider and Vault
// Agent use) for this server, with the token and, when namespace is not empty, the namespace header.
func (s *Server) Client(t testing.TB, namespace string) *vaultapi.Client {
	t.Helper()
	conf := vaultapi.DefaultConfig()
	conf.Address = s.srv.URL
	if err := conf.ConfigureTLS(&vaultapi.TLSConfig{CACert: s.caFile}); err != nil {
		t.Fatal(err)
	}
	conf.MaxRetries = 0
	c, err := vaultapi.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(Token)
	if namespace != "" {
		c.SetNamespace(namespace)
	}
	return c
}

// CertPool trusts the server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

func (s *Server) route(p string) (*mount, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *mount
	for path, m := range s.mounts {
		if (p == path || strings.HasPrefix(p, path+"/")) && (best == nil || len(path) > len(best.path)) {
			best = m
		}
	}
	if best == nil {
		return nil, "", false
	}
	return best, strings.TrimPrefix(strings.TrimPrefix(p, best.path), "/"), true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	ns := strings.Trim(r.Header.Get("X-Vault-Namespace"), "/")
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path+" ns="+ns)
	s.mu.Unlock()
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		logical.RespondError(w, http.StatusNotFound, nil)
		return
	}
	if r.Header.Get("X-Vault-Token") != Token {
		logical.RespondError(w, http.StatusForbidden, logical.ErrPermissionDenied)
		return
	}
	// Vault Enterprise: the mounts live in the namespace the program created them in; a request in
	// another namespace finds no route (vault/router.go).
	if ns != s.Namespace {
		logical.RespondError(w, http.StatusNotFound, fmt.Errorf("no handler for route %q. route entry not found.", p))
		return
	}
	if rest, ok := strings.CutPrefix(p, "sys/internal/ui/mounts/"); ok {
		m, _, found := s.route(strings.Trim(rest, "/"))
		if !found {
			logical.RespondError(w, http.StatusBadRequest, fmt.Errorf("preflight capability check returned 403, please ensure client's policies grant access to path %q", rest))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"path": m.path + "/", "type": m.typ, "options": m.options}})
		return
	}
	m, rel, found := s.route(p)
	if !found {
		logical.RespondError(w, http.StatusNotFound, fmt.Errorf("no handler for route %q. route entry not found.", p))
		return
	}
	req := &logical.Request{Path: rel, Storage: m.storage, MountPoint: m.path + "/", MountType: m.typ, ClientToken: Token, Data: map[string]any{}}
	switch r.Method {
	case http.MethodGet:
		req.Operation = logical.ReadOperation
		if r.URL.Query().Get("list") == "true" {
			req.Operation = logical.ListOperation
		}
		for k, v := range r.URL.Query() {
			if k != "list" && len(v) > 0 {
				req.Data[k] = v[0]
			}
		}
	case "LIST":
		req.Operation = logical.ListOperation
	case http.MethodPost, http.MethodPut:
		req.Operation = logical.UpdateOperation
	case http.MethodPatch:
		req.Operation = logical.PatchOperation
	case http.MethodDelete:
		req.Operation = logical.DeleteOperation
	default:
		logical.RespondError(w, http.StatusMethodNotAllowed, nil)
		return
	}
	if req.Operation == logical.ListOperation && !strings.HasSuffix(req.Path, "/") && req.Path != "" {
		req.Path += "/"
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			logical.RespondError(w, http.StatusBadRequest, err)
			return
		}
		if len(body) > 0 {
			// http/logical.go parseJSONRequest: sdk jsonutil, numbers kept as json.Number.
			if err := jsonutil.DecodeJSON(body, &req.Data); err != nil {
				logical.RespondError(w, http.StatusBadRequest, fmt.Errorf("error parsing JSON"))
				return
			}
		}
	}
	ctx := context.Background()
	if req.Operation == logical.UpdateOperation {
		// vault/request_handling.go: a write to a path whose existence check says "new" is a create.
		if checkFound, exists, err := m.backend.HandleExistenceCheck(ctx, req); err != nil {
			logical.RespondError(w, http.StatusInternalServerError, err)
			return
		} else if checkFound && !exists {
			req.Operation = logical.CreateOperation
		}
	}
	resp, err := m.backend.HandleRequest(ctx, req)
	if status, rerr := logical.RespondErrorCommon(req, resp, err); rerr != nil || status != 0 {
		logical.RespondError(w, status, rerr)
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if status, ok := resp.Data[logical.HTTPStatusCode].(int); ok {
		// http/logical.go respondRaw: the plugin chose the status and body itself.
		if ct, ok := resp.Data[logical.HTTPContentType].(string); ok {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(status)
		switch body := resp.Data[logical.HTTPRawBody].(type) {
		case []byte:
			_, _ = w.Write(body)
		case string:
			_, _ = w.Write([]byte(body))
		}
		return
	}
	httpResp := logical.LogicalResponseToHTTPResponse(resp)
	httpResp.RequestID = "4d3b9b1c-0b7e-4f53-9a2e-2a0f5f0c7e11"
	writeJSON(w, http.StatusOK, httpResp)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// ForStack starts a Vault for one fixture stack: in the namespace the program's Vault provider
// works in, with the KV mounts the program creates (vault.json `mounts`, type kv, their options as
// sent) or, with kv.existing, a KV v2 mount at the adopted path (the documented requirement).
func ForStack(t testing.TB, stack string) (*Server, fixtures.Vault) {
	t.Helper()
	v := fixtures.Load[fixtures.Vault](t, stack, "vault.json")
	ns := ""
	if v.Provider.Namespace != nil {
		ns = *v.Provider.Namespace
	}
	s := Start(t, ns)
	raw := fixtures.Load[struct {
		Mounts []struct {
			Path    string         `json:"path"`
			Type    string         `json:"type"`
			Options map[string]any `json:"options"`
		} `json:"mounts"`
	}](t, stack, "vault.json")
	created := false
	for _, m := range raw.Mounts {
		opts := map[string]string{}
		for k, v := range m.Options {
			opts[k] = fmt.Sprint(v)
		}
		s.Mount(t, m.Path, m.Type, opts)
		if strings.Trim(m.Path, "/") == v.KVMount {
			created = true
		}
	}
	if !created {
		s.Mount(t, v.KVMount, "kv", map[string]string{"version": "2"})
	}
	return s, v
}

// ProviderSeed is one vault.kv.SecretV2 as registered: every input.
type ProviderSeed struct {
	Resource string
	Inputs   map[string]any
}

// Seeds are the stack's vault.kv.SecretV2 registrations (resources.json), in order.
func Seeds(t testing.TB, stack string) []ProviderSeed {
	t.Helper()
	var out []ProviderSeed
	for _, r := range fixtures.Load[[]struct {
		Type   string         `json:"type"`
		Name   string         `json:"name"`
		Inputs map[string]any `json:"inputs"`
	}](t, stack, "resources.json") {
		if r.Type == "vault:kv/secretV2:SecretV2" {
			out = append(out, ProviderSeed{Resource: r.Name, Inputs: r.Inputs})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out
}

// Path is where the provider writes the seed: `<mount>/data/<name>` (terraform-provider-vault
// resource_kv_secret_v2.go getKVV2Path).
func (p ProviderSeed) Path() string {
	mount, _ := p.Inputs["mount"].(string)
	name, _ := p.Inputs["name"].(string)
	return strings.Trim(mount, "/") + "/data/" + name
}

// Body is what the provider's kvSecretV2Write sends: `data` (data_json parsed), and `cas` and
// `options` as the resource has them (the schema's zero values, 0 and {}, when unset).
func (p ProviderSeed) Body(t testing.TB) map[string]any {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(p.Inputs["dataJson"])), &data); err != nil {
		t.Fatalf("%s: dataJson is not a JSON object: %v", p.Resource, err)
	}
	cas := 0
	if c, ok := p.Inputs["cas"].(float64); ok {
		cas = int(c)
	}
	options := map[string]any{}
	if o, ok := p.Inputs["options"].(map[string]any); ok {
		for k, v := range o {
			options[k] = fmt.Sprint(v)
		}
	}
	return map[string]any{"data": data, "cas": cas, "options": options}
}

// Write sends the seed the way the provider does: client.Logical().Write(path, body), in the
// provider's namespace.
func (p ProviderSeed) Write(t testing.TB, c *vaultapi.Client) (*vaultapi.Secret, error) {
	t.Helper()
	return c.Logical().Write(p.Path(), p.Body(t))
}

// WriteAll writes every seed of the stack as the provider would, failing the test on a refusal.
func WriteAll(t testing.TB, s *Server, stack string, namespace string) {
	t.Helper()
	c := s.Client(t, namespace)
	seeds := Seeds(t, stack)
	for _, p := range seeds {
		if _, err := p.Write(t, c); err != nil {
			t.Fatalf("%s: Vault refuses the seed the provider writes to %s: %v", p.Resource, p.Path(), err)
		}
	}
}
