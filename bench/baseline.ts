/**
 * The baseline: the same number and types of resources the program registers, with no logic.
 *
 * Each type is registered through its real SDK class (the same submodule imports the program
 * uses) with only the inputs the class requires, and no parent, provider, dependsOn or Output
 * plumbing. Real classes rather than bare `new pulumi.CustomResource(type, ...)`: an SDK class
 * declares an Output for each of its properties (a Deployment has five, a ManagedCluster dozens),
 * and that cost comes with choosing the resource type, not with our program's logic. What the
 * program costs beyond this baseline is ours to optimise: components, parent and provider wiring,
 * applies, input documents, validation.
 */
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as authorization from "@pulumi/azure-native/authorization";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";

type Make = (name: string) => pulumi.Resource;

/** A component with nothing in it, as our components register themselves. */
class BareComponent extends pulumi.ComponentResource {
    constructor(type: string, name: string) {
        super(type, name);
        this.registerOutputs({});
    }
}

const CUSTOM: Record<string, Make> = {
    "azure-native:resources:ResourceGroup": (n) => new resources.ResourceGroup(n, {}),
    "azure-native:containerservice:ManagedCluster": (n) => new containerservice.ManagedCluster(n, { resourceGroupName: "rg" }),
    "azure-native:authorization:RoleAssignment": (n) =>
        new authorization.RoleAssignment(n, { principalId: "p", roleDefinitionId: "r", scope: "s" }),
    "pulumi:providers:kubernetes": (n) => new k8s.Provider(n, {}),
    "pulumi:providers:vault": (n) => new vault.Provider(n, { address: "https://vault" }),
    "kubernetes:core/v1:Namespace": (n) => new k8s.core.v1.Namespace(n, {}),
    "kubernetes:core/v1:ServiceAccount": (n) => new k8s.core.v1.ServiceAccount(n, {}),
    "kubernetes:core/v1:Secret": (n) => new k8s.core.v1.Secret(n, {}),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": (n) =>
        new k8s.rbac.v1.ClusterRoleBinding(n, { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "r" } }),
    "kubernetes:helm.sh/v3:Release": (n) => new k8s.helm.v3.Release(n, { chart: "c" }),
    "kubernetes:apps/v1:Deployment": (n) => new k8s.apps.v1.Deployment(n, { spec: { selector: {}, template: {} } }),
    "random:index/randomPassword:RandomPassword": (n) => new random.RandomPassword(n, { length: 8 }),
    "vault:index/authBackend:AuthBackend": (n) => new vault.AuthBackend(n, { type: "kubernetes" }),
    "vault:index/mount:Mount": (n) => new vault.Mount(n, { path: "p", type: "kv" }),
    "vault:index/policy:Policy": (n) => new vault.Policy(n, { policy: "p" }),
    "vault:kv/secretV2:SecretV2": (n) => new vault.kv.SecretV2(n, { mount: "m", dataJson: "{}" }),
    "vault:kubernetes/authBackendConfig:AuthBackendConfig": (n) => new vault.kubernetes.AuthBackendConfig(n, { kubernetesHost: "h" }),
    "vault:kubernetes/authBackendRole:AuthBackendRole": (n) =>
        new vault.kubernetes.AuthBackendRole(n, { roleName: "r", boundServiceAccountNames: ["a"], boundServiceAccountNamespaces: ["b"] }),
};

export interface TypeCount {
    type: string;
    /** False for component resources. */
    custom: boolean;
    count: number;
}

/** Registers `count` resources of each type. Throws on a type the table does not know. */
export function registerBaseline(types: readonly TypeCount[]): void {
    for (const { type, custom, count } of types) {
        const make: Make | undefined = custom ? CUSTOM[type] : (n) => new BareComponent(type, n);
        if (make === undefined) throw new Error(`baseline: no SDK class for ${type}; add it to bench/baseline.ts`);
        for (let i = 0; i < count; i++) make(`r${i}`);
    }
}
