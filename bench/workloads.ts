/**
 * N generated workloads shaped like a platform team's real ones: each with its own namespace and
 * service account, two secret files, a seeded random value and a Deployment. One in four needs
 * re-rendering (sidecar); the rest hold static KV secrets (init-only, the default).
 */
export function generateWorkloads(n: number): unknown[] {
    return Array.from({ length: n }, (_, i) => {
        const name = `app-${String(i).padStart(4, "0")}`;
        return {
            name,
            namespace: name,
            serviceAccount: name,
            secrets: [
                { file: "db_password", path: `${name}/db`, key: "password", prefix: "password=" },
                { file: "api_key", path: `${name}/api`, key: "api-key" },
            ],
            seed: [{ path: `${name}/db`, values: { password: { random: { length: 32 } } } }],
            deployment: { image: "busybox:1.36", replicas: 2 },
            ...(i % 4 === 3 ? { injection: { mode: "sidecar" } } : {}),
        };
    });
}

/** Stack settings around the workloads: the dev stack's cluster, injector and Vault. */
export function benchSettings(n: number): Record<string, unknown> {
    return {
        // systemPool and network spelled out: schema.ts's `.default({...})` on them hands back the
        // literal without its inner defaults under zod 4 (reported to the lead).
        cluster: {
            mode: "create",
            name: "aks-bench",
            resourceGroupName: "rg-bench",
            location: "francecentral",
            systemPool: { name: "system" },
            network: {},
        },
        vault: { address: "https://vault.example.com:8200" },
        injector: { namespace: "vault", replicas: 2 },
        kubernetesAuth: { path: "aks" },
        kv: { path: "secret" },
        workloads: generateWorkloads(n),
    };
}
