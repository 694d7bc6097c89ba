/**
 * The policy pack entry: `pulumi preview --policy-pack policies`. Constructing a PolicyPack starts
 * the analyzer's gRPC server, so nothing else imports this file (tests use `./policies`).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, guardrailPolicies } from "./policies";

new PolicyPack(PACK_NAME, {
    description:
        "Guardrails for AKS + Vault Agent Injector + Vault Kubernetes auth: OIDC, RBAC, HA injector, pinned chart, " +
        "least-privilege roles and policies, explicit providers.",
    policies: guardrailPolicies(),
});
