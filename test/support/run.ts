/** Builds the program from a (mutated) lab config under a fresh cloud mock, recording resource options. */
import * as pulumi from "@pulumi/pulumi";
import { parseSettings } from "../../src/config/validate";
import { SecretInputs } from "../../src/config/load";
import { buildProgram } from "../../src/program/program";
import { ProgramOutputs } from "../../src/program/outputs";
import { CloudMock, CloudMockOptions } from "./cloud";
import { labRaw } from "./fixtures";
import { settle, useCloud } from "./harness";
import { recordResourceOptions, SentOptions } from "./resourceOptions";

export interface Run {
    cloud: CloudMock;
    outputs: ProgramOutputs;
    options: SentOptions[];
    /** Options sent for one resource. */
    optionsOf(type: string, name?: string): SentOptions;
}

/** Secret config values the runs resolve `secretConfig` keys to. */
export const SECRET_CONFIG: Record<string, string> = {
    spnSecret: "spn-client-secret-Q~abc123",
    dbPassword: "db-password-from-secret-config",
};
export const VAULT_TOKEN = "hvs.CAESIJ-test-vault-token";

export function secretInputs(): SecretInputs {
    return {
        vaultToken: pulumi.secret(VAULT_TOKEN),
        secretConfig: (key: string) => {
            const v = SECRET_CONFIG[key];
            if (v === undefined) throw new Error(`no secret config ${key}`);
            return pulumi.secret(v);
        },
    };
}

export async function runLab(mutate: (raw: Record<string, any>) => void = () => undefined, opts: CloudMockOptions = {}): Promise<Run> {
    const raw = labRaw();
    mutate(raw);
    const settings = parseSettings(raw);
    const cloud = await useCloud(opts);
    const sent = recordResourceOptions();
    const outputs = buildProgram(settings, secretInputs());
    await settle(cloud);
    const options = [...sent];
    return {
        cloud,
        outputs,
        options,
        optionsOf(type, name) {
            const found = options.filter((o) => o.type === type && (name === undefined || o.name === name));
            if (found.length !== 1) throw new Error(`expected one registration of ${type}${name ? ` ${name}` : ""}, found ${found.length}`);
            return found[0];
        },
    };
}
