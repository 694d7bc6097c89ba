/**
 * Known Vault Agent failures, as they appear in `vault-agent-init` / `vault-agent` logs, mapped to
 * a cause and a fix. Every rule cites the upstream threads where the line was reported; the test
 * fixtures quote those lines.
 *
 * Vault hides most login failures behind a bare `permission denied` (the reason is only in the
 * Vault server's log), so a login `permission denied` names the usual suspects instead of one
 * cause; the Vault-side checks (`--vault-token-env`) narrow it down.
 */
import { JWT_AUTH_CONFIG_ANNOTATION } from "../agent/jwtLogin";
import { ANNOTATION, ANNOTATION_PREFIX, INJECTOR_TOKEN_MOUNT, shortAnnotationName } from "../agent/vocabulary";

/** How the fix texts name the token path annotation, as vault-k8s's docs do. */
const AUTH_CONFIG_PATH = shortAnnotationName(JWT_AUTH_CONFIG_ANNOTATION.path);

interface LogRule {
    id: string;
    /** Matched against one log entry (a line plus its continuation lines, joined with `\n`). */
    pattern: RegExp;
    cause: string;
    fix: string;
    ref: string[];
}

/** Values the fix texts are rendered with. */
export interface RuleContext {
    namespace: string;
    serviceAccount: string;
    role: string;
    authPath: string;
}

/** `{{name}}` placeholders in a rule's cause/fix, filled from the workload's expected facts. */
export function fill(text: string, ctx: RuleContext): string {
    return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String((ctx as unknown as Record<string, string>)[k] ?? `<${k}>`));
}

/** Order matters: the first rule that matches an entry wins, so specific rules come first. */
export const LOG_RULES: readonly LogRule[] = [
    // JWT auth (kubernetesAuth.method jwt). The messages are hashicorp/cap jwt.Validate's, wrapped by
    // vault-plugin-auth-jwt path_login.go as `error validating token: ...` (HTTP 400 to the agent).
    {
        id: "log.jwt-aud-invalid",
        pattern: /invalid audience \(aud\) claim|audience claim does not match any expected audience|audience claim found in JWT but no audiences bound to the role/i,
        cause:
            "The token the agent presented is not for an audience role `{{role}}` accepts: " +
            "usually the pod's default service-account token (audience: the API server) instead of the projected Vault token, " +
            "or a projected token minted for another audience.",
        fix:
            `Check that the pod carries \`${ANNOTATION.tokenVolumeName}\` and \`${AUTH_CONFIG_PATH}\` pointing at the projected token, ` +
            `and that the volume's audience equals the role's bound_audiences ` +
            `(kubernetesAuth.audience; \`vault read auth/{{authPath}}/role/{{role}}\`). ` +
            `Run \`up\`, then \`kubectl -n {{namespace}} rollout restart deployment\` for pods created before.`,
        ref: ["hashicorp/vault-plugin-auth-jwt#206", "hashicorp/vault#16033", "hashicorp/vault-k8s#660"],
    },
    {
        id: "log.jwt-sub-invalid",
        pattern: /invalid subject \(sub\) claim|sub claim does not match bound subject|claim "sub" does not match any associated bound claim values/i,
        cause:
            "The token's `sub` (system:serviceaccount:<namespace>:<service account>) is not the one role `{{role}}` is bound to: " +
            "the pod runs as another service account or in another namespace.",
        fix:
            "Run the pod as `{{serviceAccount}}` in namespace `{{namespace}}` (spec.serviceAccountName), " +
            "or bind the role to the pod's identity: " +
            "bound_subject=system:serviceaccount:{{namespace}}:{{serviceAccount}} on auth/{{authPath}}/role/{{role}}.",
        ref: ["hashicorp/vault-plugin-auth-jwt#382", "hashicorp/vault-plugin-auth-jwt#12"],
    },
    {
        id: "log.jwt-iss-invalid",
        pattern: /invalid issuer \(iss\) claim/i,
        cause:
            "The token's `iss` differs from the mount's bound_issuer: " +
            "a bound issuer without the trailing slash AKS puts on its issuer URL, or a token from another cluster.",
        fix:
            "Set bound_issuer to the cluster's issuer exactly as `az aks show --query oidcIssuerProfile.issuerUrl -o tsv` prints it " +
            "(run `up` through the vault-auth stage: the program sets both from it); " +
            "`vault read auth/{{authPath}}/config` shows the current value.",
        ref: ["Azure/azure-workload-identity#1700", "hashicorp/vault-plugin-auth-jwt#65"],
    },
    {
        id: "log.jwt-expired",
        pattern: /invalid expiration time \(exp\) claim: token is expired|token is expired/i,
        cause:
            "The agent presented an expired token: " +
            "a token file the kubelet no longer refreshes (a copied token, a file outside the projected volume), " +
            "or the clocks of the node and Vault disagree by more than the leeway.",
        fix:
            `Point \`${JWT_AUTH_CONFIG_ANNOTATION.path}\` at the projected volume's file ` +
            `(the kubelet rotates it at 80% of its lifetime and the agent re-reads it every minute), ` +
            `keep remove_jwt_after_reading false, and check NTP on the node and on Vault.`,
        ref: ["hashicorp/vault-k8s#78", "spring-projects/spring-vault#449"],
    },
    {
        id: "log.jwt-signature",
        pattern: /error verifying token signature|no known key successfully validated the token signature/i,
        cause:
            "No key published at the mount's discovery URL verifies the token: " +
            "the mount trusts another cluster's issuer (a recreated cluster has a new issuer URL and keys).",
        fix:
            "Run `up` through the vault-auth stage so oidc_discovery_url and bound_issuer are the current cluster's issuer URL; " +
            "compare with `az aks show --query oidcIssuerProfile.issuerUrl -o tsv`.",
        ref: ["Azure/azure-workload-identity#1700"],
    },
    {
        id: "log.jwt-discovery",
        pattern: /error checking oidc discovery URL|keyset configuration error|issuer did not match the (returned )?issuer/i,
        cause:
            "Vault could not use the issuer's discovery document: " +
            "it cannot reach the AKS issuer URL (egress from Vault to *.oic.prod-aks.azure.com), " +
            "or the document's issuer differs from the configured URL (a missing trailing slash).",
        fix:
            "From the Vault host, fetch `<issuer URL>.well-known/openid-configuration` " +
            "and compare its `issuer` with oidc_discovery_url character for character; open Vault's egress to the issuer host.",
        ref: ["hashicorp/vault-plugin-auth-jwt#65", "hashicorp/vault#28650"],
    },
    {
        id: "log.jwt-no-token-file",
        pattern: /latest known jwt is empty, cannot authenticate/i,
        cause:
            `The agent found no token at its \`path\`: ` +
            `the projected volume is not mounted into the agent containers, or ${AUTH_CONFIG_PATH} names another file.`,
        fix:
            `Set \`${ANNOTATION.tokenVolumeName}\` to the projected volume ` +
            `(the injector then mounts it at ${INJECTOR_TOKEN_MOUNT} in the agent containers) ` +
            `and \`${AUTH_CONFIG_PATH}\` to that directory plus the projection's path; run \`up\` and restart the pods.`,
        ref: ["hashicorp/vault-k8s#660"],
    },
    {
        id: "log.jwt-remove-readonly",
        pattern: /error removing jwt file/i,
        cause:
            "The agent's jwt method deletes the token after reading it unless told not to; " +
            "a projected volume is read-only, so every read logs this error (harmless to the login, noisy).",
        fix:
            `Add \`${JWT_AUTH_CONFIG_ANNOTATION.removeJwtAfterReading}: "false"\` to the pod template ` +
            `(the program sets it with kubernetesAuth.method jwt).`,
        ref: ["hashicorp/vault#11968", "hashicorp/vault-k8s#660"],
    },
    {
        id: "log.sa-not-authorized",
        pattern: /service account name not authorized/i,
        cause:
            "The pod's service account is not in the role's bound_service_account_names " +
            "(often `default`, because the pod spec names no serviceAccountName).",
        fix:
            "Run the pod as `{{serviceAccount}}` (spec.serviceAccountName), or bind that name in Vault role `{{role}}`: " +
            "vault write auth/{{authPath}}/role/{{role}} bound_service_account_names={{serviceAccount}} ...",
        ref: ["hashicorp/vault-plugin-auth-kubernetes#79", "hashicorp/vault-plugin-auth-kubernetes#49"],
    },
    {
        id: "log.namespace-not-authorized",
        pattern: /namespace not authorized/i,
        cause:
            "The pod's namespace is not in the role's bound_service_account_namespaces. " +
            "This is Vault configuration; Kubernetes RBAC plays no part.",
        fix:
            "Bind namespace `{{namespace}}` in Vault role `{{role}}` (bound_service_account_namespaces), " +
            "or deploy the workload into the bound namespace.",
        ref: ["hashicorp/vault-plugin-auth-kubernetes#89"],
    },
    {
        id: "log.iss-invalid",
        pattern: /claim "iss" is invalid/i,
        cause:
            "Vault validates the token's `iss` claim and it does not match the configured issuer; " +
            "AKS clusters of the 1.21 era mint a double-quoted issuer.",
        fix:
            "Set kubernetesAuth.validateIssuer=false (disable_iss_validation=true, the Vault default), " +
            "or set the mount's issuer to the exact `iss` string of a workload token; then run `up` again.",
        ref: ["Azure/AKS#2523", "Azure/AKS#4321"],
    },
    {
        id: "log.aud-invalid",
        pattern: /claim "aud" is invalid/i,
        cause: "Role `{{role}}` sets an audience that is not among the token's `aud` values.",
        fix:
            "Leave the role's audience unset, or set it to an audience the workload token carries " +
            "(on AKS with the OIDC issuer on, the issuer URL).",
        ref: ["hashicorp/vault-plugin-auth-kubernetes#102"],
    },
    {
        id: "log.tokenreview-timeout",
        pattern: /tokenreviews[\s\S]*i\/o timeout/i,
        cause: "Vault cannot reach the AKS API server to call TokenReview: the connection times out.",
        fix:
            "Open a network path from Vault to kubernetes_host: add Vault's egress IP to the cluster's API server authorized IP ranges; " +
            "a private cluster needs VNet connectivity and private DNS.",
        ref: ["hashicorp/vault-k8s#69", "hashicorp/vault-k8s#263"],
    },
    {
        id: "log.tokenreview-forbidden",
        pattern: /tokenreviews(\.authentication\.k8s\.io)? is forbidden/i,
        cause:
            "The token_reviewer_jwt Vault uses belongs to a service account without `create tokenreviews` " +
            "(no system:auth-delegator ClusterRoleBinding), e.g. the injector's own service account.",
        fix:
            "Configure the mount with the reviewer service account's long-lived token (bound to system:auth-delegator): " +
            "run `up` through the vault-auth stage; do not reuse the injector's token.",
        ref: ["hashicorp/vault-helm#376", "hashicorp/vault-k8s#143", "hashicorp/vault-helm#906"],
    },
    {
        id: "log.x509-unknown-authority",
        pattern: /x509: certificate signed by unknown authority/i,
        cause: "The agent does not trust the certificate of the external Vault's TLS listener (a private CA).",
        fix:
            `Give the agent the CA: \`${ANNOTATION_PREFIX}tls-secret\` + \`${ANNOTATION_PREFIX}ca-cert=/vault/tls/<ca>\` annotations, ` +
            `or injector.extraEnvironmentVars.AGENT_INJECT_VAULT_CACERT_BYTES. tls-skip-verify is for tests only.`,
        ref: ["hashicorp/vault-k8s#151", "hashicorp/vault-helm#339"],
    },
    {
        id: "log.vault-unreachable",
        pattern: /dial tcp \S+: (i\/o timeout|connect: connection refused)/i,
        cause:
            "The agent cannot open a connection to the Vault address (timeout or refused): " +
            "a firewall, NSG, route or DNS between the pod and Vault, or Vault's listener is down.",
        fix:
            "Check from a pod in namespace `{{namespace}}` that the Vault address answers " +
            "(the same address as global.externalVaultAddr); open egress from the AKS node subnet to Vault's port.",
        ref: ["jweissig/vault-k8s-sidecar-demo#1", "hashicorp/vault-k8s#69"],
    },
    {
        id: "log.no-secret",
        pattern: /no secret exists at/i,
        cause: "The template reads a KV path that holds no secret (not seeded, wrong mount, or a KV v2 path without `data/`).",
        fix:
            "Seed the secret at that path (workloads[].seed) or correct workloads[].secrets[].path; " +
            "KV v2 reads go to `<mount>/data/<path>`.",
        ref: ["hashicorp/vault#20772"],
    },
    {
        id: "log.login-permission-denied",
        // The login call: `URL: PUT .../v1/auth/<path>/login` (or the auth handler's message) then `* permission denied`.
        pattern: /(\/login|auth\.handler)[\s\S]*permission denied/i,
        cause:
            "Vault rejected the login with a bare `permission denied`; it names the reason only in its own log. " +
            "Usual causes with an external Vault: the reviewer JWT lacks system:auth-delegator, Vault cannot reach the API server, " +
            "or the configured reviewer JWT expired (a copied pod token).",
        fix:
            "Read the Vault server log for `login unauthorized due to`, " +
            "or run `doctor --vault-token-env VAULT_TOKEN` to check the mount's config " +
            "(kubernetes_host, reviewer JWT set) and role `{{role}}`.",
        ref: ["hashicorp/vault-helm#376", "hashicorp/vault-k8s#69", "hashicorp/vault#12855"],
    },
    {
        id: "log.read-permission-denied",
        // After a successful login: `vault.read(...)` / `URL: GET .../v1/<mount>/data/...` then `permission denied`.
        pattern: /(vault\.read|URL: GET)[\s\S]*permission denied/i,
        cause: "Login worked but the token's policies do not grant `read` on the secret path (KV v2 policies need `<mount>/data/<path>`).",
        fix:
            "Grant read on the path in the policy attached to role `{{role}}`" +
            " (workloads[].secrets[].path drives the generated policy; extra policies go in workloads[].policies).",
        ref: ["hashicorp/vault#20772", "hashicorp/vault-k8s#477"],
    },
];

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT|\d{4}\/\d\d\/\d\d |==> )/;

/**
 * Groups raw log lines into entries: Vault Agent writes multi-line errors (`error=` then `| ...`
 * lines, or a quoted value with embedded newlines); a new entry starts at a timestamp or `==>`.
 */
export function logEntries(lines: readonly string[]): string[] {
    const entries: string[] = [];
    for (const line of lines) {
        if (entries.length === 0 || TIMESTAMP.test(line)) entries.push(line);
        else entries[entries.length - 1] += `\n${line}`;
    }
    return entries;
}

interface RuleMatch {
    rule: LogRule;
    /** How many entries matched. */
    count: number;
    /** The last matching entry (not yet redacted). */
    entry: string;
}

/** The rules the log lines match, in rule order, each with its last matching entry. */
export function matchLogRules(lines: readonly string[], rules: readonly LogRule[] = LOG_RULES): RuleMatch[] {
    const found = new Map<string, RuleMatch>();
    for (const entry of logEntries(lines)) {
        const rule = rules.find((r) => r.pattern.test(entry));
        if (rule === undefined) continue;
        const prev = found.get(rule.id);
        found.set(rule.id, { rule, count: (prev?.count ?? 0) + 1, entry });
    }
    return rules.flatMap((r) => found.get(r.id) ?? []);
}

/** Consul Template's line for a written file: `(runner) rendered "(dynamic)" => "/vault/secrets/x"`. */
export function renderedFiles(lines: readonly string[]): Set<string> {
    const files = new Set<string>();
    for (const line of lines) {
        const m = /\(runner\) rendered "[^"]*" => "([^"]+)"/.exec(line);
        if (m) files.add(m[1]);
    }
    return files;
}
