/**
 * The Vault provider takes a CA only as a file or directory (`caCertFile`, `caCertDir`); its
 * `VAULT_CACERT_BYTES` is read from the provider's environment, which a program cannot set
 * (hashicorp/terraform-provider-vault internal/provider/meta.go: TLSConfig CACert/CAPath/
 * CACertBytes). So `vault.caCertPem` is written to a file named by its content, which a later run
 * (or a `destroy` through the CLI, which writes it again) finds at the same path.
 */
import { createHash } from "crypto";
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";

/** Default directory: per machine, in the system temp directory. */
export function defaultCaCertDir(): string {
    return path.join(os.tmpdir(), `aks-vault-${os.userInfo().uid}`);
}

/**
 * Writes `pem` to `<dir>/vault-ca-<sha256 prefix>.pem` unless it is already there, and returns the
 * absolute path. The directory must be this user's alone (0700, not a symlink): a CA file another
 * user could swap would let them impersonate Vault to this program and collect its token.
 */
export function writeVaultCaCertFile(pem: string, dir: string = defaultCaCertDir()): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = os.userInfo().uid;
    const posix = process.platform !== "win32";
    if (!st.isDirectory() || (posix && (st.uid !== uid || (st.mode & 0o077) !== 0))) {
        throw new Error(`${dir} must be a directory owned by this user with mode 0700 to hold the Vault CA file; remove it and run again`);
    }
    const file = path.resolve(dir, `vault-ca-${createHash("sha256").update(pem).digest("hex").slice(0, 16)}.pem`);
    let current: string | undefined;
    try {
        current = readFileSync(file, "utf8");
    } catch {
        current = undefined;
    }
    if (current !== pem) writeFileSync(file, pem, { mode: 0o600 });
    return file;
}
