/**
 * The Vault provider takes a CA only as a file or directory (`caCertFile`, `caCertDir`; no inline
 * PEM: node_modules/@pulumi/vault/provider.d.ts); its `VAULT_CACERT_BYTES` is read from the
 * provider's environment, which a program cannot set (hashicorp/terraform-provider-vault
 * internal/provider/meta.go: TLSConfig CACert/CAPath/CACertBytes).
 *
 * The path is recorded in the stack's state with the provider's inputs, and `refresh` and
 * `destroy` configure the provider from that state. So the path must mean the same file on every
 * runner: it is relative (`.vault-ca/vault-ca-<sha256 prefix>.pem`) and named by the content. The
 * engine starts every provider plugin in the project root (pulumi/pulumi
 * sdk/go/common/resource/plugin/plugin.go `cmd.Dir = pwd`, with `ctx.Pwd` the project root from
 * pkg/engine/project.go `getPwdMain`), so the provider reads it from there; the program (and the
 * CLI before a `destroy` or `refresh`) writes it there.
 */
import { createHash } from "crypto";
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../src/projectDir";

/** The folder, relative to the project root, that holds the CA files (git-ignored). */
const CA_CERT_FOLDER = ".vault-ca";

/** The path recorded in state: relative to the project root, the same on every machine. */
function vaultCaCertRelativePath(pem: string): string {
    return `${CA_CERT_FOLDER}/vault-ca-${createHash("sha256").update(pem).digest("hex").slice(0, 16)}.pem`;
}

/**
 * Writes `pem` to `<projectDir>/.vault-ca/vault-ca-<sha256 prefix>.pem` unless it is already there,
 * and returns the relative path the provider is given. The folder must be this user's alone
 * (0700, not a symlink): a CA file another user could swap would let them impersonate Vault to
 * this program and collect its token.
 */
export function writeVaultCaCertFile(pem: string, projectDir: string = PROJECT_DIR): string {
    const dir = path.join(projectDir, CA_CERT_FOLDER);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const posix = process.platform !== "win32";
    if (!st.isDirectory() || (posix && (st.uid !== os.userInfo().uid || (st.mode & 0o077) !== 0))) {
        throw new Error(`${dir} must be a directory owned by this user with mode 0700 to hold the Vault CA file; remove it and run again`);
    }
    const relative = vaultCaCertRelativePath(pem);
    const file = path.join(projectDir, relative);
    let current: string | undefined;
    try {
        current = readFileSync(file, "utf8");
    } catch {
        current = undefined;
    }
    if (current !== pem) writeFileSync(file, pem, { mode: 0o600 });
    return relative;
}
