/**
 * Which stage a resource in the stack's state belongs to, read from its URN.
 *
 * Stage k's program is the whole graph cut after stage k, so running it as an `up` deletes every
 * resource of a later stage. The runner therefore needs to know the highest stage that already
 * has resources in the state; this module answers that from the URNs alone (`pulumi stack export`).
 */
import { TYPE_PREFIX } from "../../components/typePrefix";
import { STAGES, Stage, stageIndex } from "../stages";

/**
 * The top-level type of each stage's resources. Every resource the program registers is either
 * one of these or a child of one (its URN's type chain starts with the parent's type). A test
 * runs `buildProgram` for each stage and checks that this table covers what it registers.
 */
export const STAGE_ROOT_TYPES: Readonly<Record<string, Stage>> = {
    [`${TYPE_PREFIX}:AksCluster`]: "cluster",
    [`${TYPE_PREFIX}:VaultInjector`]: "injector",
    "pulumi:providers:vault": "vault-auth",
    [`${TYPE_PREFIX}:VaultKubernetesAuth`]: "vault-auth",
    [`${TYPE_PREFIX}:VaultJwtAuth`]: "vault-auth",
    [`${TYPE_PREFIX}:VaultKv`]: "vault-auth",
    [`${TYPE_PREFIX}:WorkloadBinding`]: "workloads",
};

/** Types that exist in every stack and belong to no stage. */
const STAGELESS = /^pulumi:pulumi:Stack$|^pulumi:providers:/;

/** `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>` -> the first type of the chain. */
function rootTypeOfUrn(urn: string): string {
    const parts = urn.split("::");
    if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) throw new Error(`not a Pulumi URN: ${urn}`);
    return parts[2].split("$")[0];
}

/**
 * The stage of a resource; `undefined` for stage-less resources (the stack, default providers).
 * A resource of a type this program does not know is attributed to the last stage: the runner
 * then refuses any cut that would delete it instead of deleting something it cannot place.
 */
export function stageOfUrn(urn: string): Stage | undefined {
    const root = rootTypeOfUrn(urn);
    const known = STAGE_ROOT_TYPES[root];
    if (known !== undefined) return known;
    if (STAGELESS.test(root)) return undefined;
    return STAGES[STAGES.length - 1];
}

/** The highest stage with at least one resource in the state; `undefined` for an empty stack. */
export function deployedStage(urns: Iterable<string>): Stage | undefined {
    let highest = -1;
    for (const urn of urns) {
        const stage = stageOfUrn(urn);
        if (stage !== undefined) highest = Math.max(highest, stageIndex(stage));
    }
    return highest < 0 ? undefined : STAGES[highest];
}
