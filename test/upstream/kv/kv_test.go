// Package kv replays the program's seeds against Vault's KV secrets engine (package vaultkv:
// vault-plugin-secrets-kv behind Vault's HTTP API) exactly as the Vault provider writes them
// (terraform-provider-vault kvSecretV2Write: `data`, `cas` and `options` to <mount>/data/<name>),
// and holds the result to the stack file: every declared seed lands at <kv.path>/<path> with
// exactly its declared keys, as version 1; a write-once seed (`writeOnce`, default true) never
// overwrites a value already at its path (someone rotated it, or wrote it by hand): the KV engine
// refuses it by check-and-set; a `writeOnce: false` seed does overwrite.
package kv

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"aksvault/upstream/fixtures"
	"aksvault/upstream/stackfile"
	"aksvault/upstream/upstreamsrc"
	"aksvault/upstream/vaultkv"
)

type declared struct {
	workload string
	seed     stackfile.Seed
}

// declaredSeeds are the stack file's seeds by path inside the KV mount.
func declaredSeeds(t *testing.T, f stackfile.File) map[string]declared {
	out := map[string]declared{}
	for _, w := range f.Workloads {
		for _, s := range w.Seed {
			if prev, ok := out[s.Path]; ok {
				t.Fatalf("%s: %s and %s both seed %s", f.Path, prev.workload, w.Name, s.Path)
			}
			out[s.Path] = declared{w.Name, s}
		}
	}
	return out
}

// namespace is the Vault Enterprise namespace the stack file names ("" for root).
func namespace(f stackfile.File) string { return f.Vault.Namespace }

// matchSeed finds the provider write for a declared path, failing when there is not exactly one.
func matchSeed(t *testing.T, seeds []vaultkv.ProviderSeed, f stackfile.File, path string) vaultkv.ProviderSeed {
	t.Helper()
	var found []vaultkv.ProviderSeed
	for _, p := range seeds {
		if p.Path() == f.KV.Path+"/data/"+path {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the stack file seeds %s/%s; the program writes it %d times", f.KV.Path, path, len(found))
	}
	return found[0]
}

// checkValues holds what Vault stores for a seed to its declaration: the same keys; a literal
// `value` exactly; a `random` value of the declared length; a `secretConfig` value not empty.
func checkValues(t *testing.T, path string, d stackfile.Seed, got map[string]any) {
	t.Helper()
	var keys, want []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range d.Values {
		want = append(want, k)
	}
	sort.Strings(keys)
	sort.Strings(want)
	if !slices.Equal(keys, want) {
		t.Errorf("%s holds keys %v, the stack file declares %v", path, keys, want)
	}
	for k, v := range d.Values {
		s, ok := got[k].(string)
		if !ok {
			continue
		}
		switch {
		case v.Value != nil && s != *v.Value:
			t.Errorf("%s: %s = %q, the stack file says %q", path, k, s, *v.Value)
		case v.Random != nil:
			length := v.Random.Length
			if length == 0 {
				length = 32 // docs/configuration.md: random.length default
			}
			if len(s) != length {
				t.Errorf("%s: %s is %d characters, the stack file asks for %d", path, k, len(s), length)
			}
		case v.SecretConfig != nil && s == "":
			t.Errorf("%s: %s (secretConfig %s) is empty", path, k, *v.SecretConfig)
		}
	}
}

// The KV engine's check-and-set refusal (path_data.go validateCheckAndSetOption), as its HTTP
// answer: 400 with exactly that message.
func casRefusal(t *testing.T) string {
	return upstreamsrc.Literal(t, "github.com/hashicorp/vault-plugin-secrets-kv", "path_data.go",
		"check-and-set parameter did not match the current version")
}

func responseError(err error) (*vaultapi.ResponseError, bool) {
	var re *vaultapi.ResponseError
	ok := errors.As(err, &re)
	return re, ok
}

func TestSeedsAsDeclared(t *testing.T) {
	for _, stack := range fixtures.Stacks(t) {
		t.Run(stack, func(t *testing.T) {
			f := stackfile.Load(t, stack)
			want := declaredSeeds(t, f)
			srv, _ := vaultkv.ForStack(t, stack)
			seeds := vaultkv.Seeds(t, stack)
			if len(seeds) != len(want) {
				paths := []string{}
				for _, p := range seeds {
					paths = append(paths, p.Path())
				}
				t.Errorf("the program writes %d seeds %v; the stack file declares %d", len(seeds), paths, len(want))
			}
			c := srv.Client(t, namespace(f))
			for path, d := range want {
				p := matchSeed(t, seeds, f, path)
				if _, err := p.Write(t, c); err != nil {
					t.Errorf("%s: Vault refuses the first write of %s: %v", p.Resource, p.Path(), err)
					continue
				}
				// Read as the agent reads it (the Vault API client's KV v2 helper: data path).
				secret, err := c.KVv2(f.KV.Path).Get(context.Background(), path)
				if err != nil {
					t.Errorf("%s/%s: not readable after the seed: %v", f.KV.Path, path, err)
					continue
				}
				if secret.VersionMetadata == nil || secret.VersionMetadata.Version != 1 {
					t.Errorf("%s/%s: version %+v after the first seed, want 1", f.KV.Path, path, secret.VersionMetadata)
				}
				checkValues(t, f.KV.Path+"/"+path, d.seed, secret.Data)
				t.Logf("%s/%s seeded by %s: keys %v, version 1", f.KV.Path, path, d.workload, keysOf(secret.Data))
			}
		})
	}
}

// Someone rotated the value in Vault (or wrote it before the stack existed): the next `up` of a
// write-once seed must leave it alone, a writeOnce: false seed must replace it.
func TestSeedsNeverOverwrite(t *testing.T) {
	for _, stack := range fixtures.Stacks(t) {
		t.Run(stack, func(t *testing.T) {
			f := stackfile.Load(t, stack)
			srv, _ := vaultkv.ForStack(t, stack)
			seeds := vaultkv.Seeds(t, stack)
			c := srv.Client(t, namespace(f))
			refusal := casRefusal(t)
			paths := []string{}
			for path := range declaredSeeds(t, f) {
				paths = append(paths, path)
			}
			sort.Strings(paths)
			for _, path := range paths {
				d := declaredSeeds(t, f)[path]
				p := matchSeed(t, seeds, f, path)
				rotated := map[string]any{"rotated": "by-the-operator"}
				if _, err := c.KVv2(f.KV.Path).Put(context.Background(), path, rotated); err != nil {
					t.Fatalf("writing the rotated value at %s/%s: %v", f.KV.Path, path, err)
				}
				_, err := p.Write(t, c)
				after, rerr := c.KVv2(f.KV.Path).Get(context.Background(), path)
				if rerr != nil {
					t.Fatalf("%s/%s: %v", f.KV.Path, path, rerr)
				}
				if d.seed.IsWriteOnce() {
					re, ok := responseError(err)
					if err == nil {
						t.Errorf("%s/%s (writeOnce): the seed overwrote the value already there: now %v", f.KV.Path, path, keysOf(after.Data))
					} else if !ok || re.StatusCode != http.StatusBadRequest || !slices.Equal(re.Errors, []string{refusal}) {
						t.Errorf("%s/%s (writeOnce): refused with %v, want the KV engine's 400 %q", f.KV.Path, path, err, refusal)
					}
					if after.VersionMetadata.Version != 1 || after.Data["rotated"] != "by-the-operator" {
						t.Errorf("%s/%s (writeOnce): the rotated value is gone (version %d, keys %v)", f.KV.Path, path, after.VersionMetadata.Version, keysOf(after.Data))
					}
					continue
				}
				if err != nil {
					t.Errorf("%s/%s (writeOnce: false): the stack's value was not written over the old one: %v", f.KV.Path, path, err)
					continue
				}
				if after.VersionMetadata.Version != 2 {
					t.Errorf("%s/%s (writeOnce: false): version %d, want 2", f.KV.Path, path, after.VersionMetadata.Version)
				}
				checkValues(t, f.KV.Path+"/"+path, d.seed, after.Data)
			}
		})
	}
}

// The engine is the KV plugin, not an echo: a write to a path under no mount, a check-and-set on
// a missing version and a KV v1 read of a v2 path are refused as Vault refuses them.
func TestEngineControl(t *testing.T) {
	srv := vaultkv.Start(t, "")
	srv.Mount(t, "kv", "kv", map[string]string{"version": "2"})
	c := srv.Client(t, "")
	noRoute := upstreamsrc.Format(t, "github.com/hashicorp/vault", "vault/router.go", "no handler for route %q. route entry not found.", "other/data/x")
	if _, err := c.Logical().Write("other/data/x", map[string]any{"data": map[string]any{"a": "b"}}); err == nil {
		t.Error("a write under no mount succeeded")
	} else if re, ok := responseError(err); !ok || re.StatusCode != http.StatusNotFound || !slices.Equal(re.Errors, []string{noRoute}) {
		t.Errorf("a write under no mount: %v, want Vault's router's 404 %q", err, noRoute)
	}
	if _, err := c.Logical().Write("kv/data/x", map[string]any{"data": map[string]any{"a": "b"}, "options": map[string]any{"cas": "1"}}); err == nil {
		t.Error("cas 1 on a new path succeeded")
	} else if re, ok := responseError(err); !ok || re.StatusCode != http.StatusBadRequest || !slices.Equal(re.Errors, []string{casRefusal(t)}) {
		t.Errorf("cas 1 on a new path: %v", err)
	}
	if _, err := c.Logical().Write("kv/data/x", map[string]any{"data": map[string]any{"a": "b"}, "options": map[string]any{"cas": "0"}}); err != nil {
		t.Errorf("cas 0 on a new path: %v", err)
	}
	md, err := c.KVv2("kv").GetMetadata(context.Background(), "x")
	if err != nil || md.CurrentVersion != 1 {
		t.Errorf("metadata after one write: %+v %v", md, err)
	}
	b, _ := json.Marshal(md)
	t.Logf("metadata: %s", b)
	if s, err := c.Logical().Read("kv/x"); err == nil && s != nil && s.Data != nil {
		t.Errorf("a KV v1-style read of a v2 path returned data: %v", s.Data)
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
