//go:build vaultacl

// Command driver asks Vault's ACL engine (../, built from Vault's source) for decisions: it reads
// {"policies": [{"name", "hcl"}], "requests": [{"policies": [...], "operation", "path"}]} on
// stdin and writes one {"allowed", "rootPrivs", "capabilities", "granting"} per request, or parse errors.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/hashicorp/vault/helper/namespace"
	"github.com/hashicorp/vault/sdk/logical"

	vault "aksvault/upstream/acl/vaultacl"
)

type input struct {
	Policies []struct {
		Name string `json:"name"`
		HCL  string `json:"hcl"`
	} `json:"policies"`
	Requests []struct {
		Policies  []string `json:"policies"`
		Operation string   `json:"operation"`
		Path      string   `json:"path"`
	} `json:"requests"`
}

type decision struct {
	Allowed      bool     `json:"allowed"`
	RootPrivs    bool     `json:"rootPrivs"`
	Capabilities []string `json:"capabilities"`
	Granting     []string `json:"granting"`
}

type output struct {
	ParseErrors map[string]string `json:"parseErrors,omitempty"`
	Decisions   []decision        `json:"decisions"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail(err)
	}
	ctx := namespace.RootContext(context.Background())
	parsed := map[string]*vault.Policy{}
	out := output{ParseErrors: map[string]string{}}
	for _, p := range in.Policies {
		policy, err := vault.ParseACLPolicy(namespace.RootNamespace, p.HCL)
		if err != nil {
			out.ParseErrors[p.Name] = err.Error()
			continue
		}
		policy.Name = p.Name
		parsed[p.Name] = policy
	}
	if len(out.ParseErrors) > 0 {
		out.Decisions = nil
		if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
			fail(err)
		}
		return
	}
	for _, r := range in.Requests {
		var set []*vault.Policy
		for _, name := range r.Policies {
			p, ok := parsed[name]
			if !ok {
				fail(fmt.Errorf("request names policy %q, which was not given or did not parse", name))
			}
			set = append(set, p)
		}
		acl, err := vault.NewACL(ctx, set)
		if err != nil {
			fail(err)
		}
		res := acl.AllowOperation(ctx, &logical.Request{Operation: logical.Operation(r.Operation), Path: r.Path}, false)
		d := decision{Allowed: res.Allowed, RootPrivs: res.RootPrivs, Capabilities: acl.Capabilities(ctx, r.Path)}
		for _, g := range res.GrantingPolicies {
			d.Granting = append(d.Granting, g.Name)
		}
		sort.Strings(d.Granting)
		out.Decisions = append(out.Decisions, d)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "vaultacl driver:", err)
	os.Exit(1)
}
