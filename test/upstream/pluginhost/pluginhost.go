// Package pluginhost runs an auth plugin's logical.Backend in-process the way Vault's core hands it
// requests: storage in memory, a write turned into create or update by the path's existence check,
// an error response treated as an error.
package pluginhost

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"
)

// Host is one mounted backend and its storage.
type Host struct {
	Backend logical.Backend
	Storage logical.Storage
}

// Start builds the backend with the plugin's Factory (as Vault does when mounting it) and
// initializes it.
func Start(t testing.TB, factory logical.Factory) *Host {
	t.Helper()
	conf := logical.TestBackendConfig()
	conf.Logger = hclog.NewNullLogger()
	storage := &logical.InmemStorage{}
	conf.StorageView = storage
	ctx := context.Background()
	b, err := factory(ctx, conf)
	if err != nil {
		t.Fatalf("plugin Factory: %v", err)
	}
	if err := b.Initialize(ctx, &logical.InitializationRequest{Storage: storage}); err != nil {
		t.Fatalf("plugin Initialize: %v", err)
	}
	t.Cleanup(func() { b.Cleanup(ctx) })
	return &Host{Backend: b, Storage: storage}
}

// Write sends what the Vault provider would: a write at path with body. Vault's core turns it into
// a create when the path's existence check says the entry is new (vault/request_handling.go). An
// error, or a warning that Vault ignored a parameter, fails the test: the program sent what the
// plugin rejects. Other warnings are logged.
func (h *Host) Write(t testing.TB, path string, body map[string]any) {
	t.Helper()
	ctx := context.Background()
	req := &logical.Request{Operation: logical.UpdateOperation, Path: path, Storage: h.Storage, Data: body}
	if found, exists, err := h.Backend.HandleExistenceCheck(ctx, req); err != nil {
		t.Fatalf("existence check %s: %v", path, err)
	} else if found && !exists {
		req.Operation = logical.CreateOperation
	}
	resp, err := h.Backend.HandleRequest(ctx, req)
	if err != nil || (resp != nil && resp.IsError()) {
		t.Fatalf("write %s: the plugin refused what the program sends: %v %v", path, err, ErrText(resp))
	}
	if resp != nil {
		for _, w := range resp.Warnings {
			if strings.Contains(w, "ignored") || strings.Contains(w, "unrecognized") {
				t.Errorf("write %s: %s", path, w)
			} else {
				t.Logf("write %s: Vault warns: %s", path, w)
			}
		}
	}
}

// Read reads path.
func (h *Host) Read(t testing.TB, path string) map[string]any {
	t.Helper()
	resp, err := h.Backend.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: path, Storage: h.Storage})
	if err != nil || resp == nil || resp.IsError() {
		t.Fatalf("read %s: %v %v", path, err, ErrText(resp))
	}
	return resp.Data
}

// Login posts {role, jwt} to the backend's login path, from a pod's address. A refusal is an error.
func (h *Host) Login(role, jwt string) (*logical.Response, error) {
	resp, err := h.Backend.HandleRequest(context.Background(), &logical.Request{
		Operation:  logical.UpdateOperation,
		Path:       "login",
		Storage:    h.Storage,
		Data:       map[string]any{"role": role, "jwt": jwt},
		Connection: &logical.Connection{RemoteAddr: "10.244.1.17"},
	})
	if err == nil && resp != nil && resp.IsError() {
		return resp, fmt.Errorf("%s", ErrText(resp))
	}
	if err == nil && (resp == nil || resp.Auth == nil) {
		return resp, fmt.Errorf("login returned no auth")
	}
	return resp, err
}

// ErrText is the error message of an error response.
func ErrText(resp *logical.Response) string {
	if resp == nil || resp.Data == nil {
		return ""
	}
	if e, ok := resp.Data["error"].(string); ok {
		return e
	}
	return ""
}
