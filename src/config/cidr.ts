/**
 * IPv4 CIDR blocks as AKS takes them for the API server's authorized IP ranges
 * (`apiServerAccessProfile.authorizedIPRanges`, "specified in CIDR format, e.g.
 * 137.117.106.88/29"). Parsed by hand in one pass, no regular expression: the time is linear in
 * the input whatever it holds.
 */

/** AKS: "You can specify up to 200 authorized IP ranges" (learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges). */
export const MAX_AUTHORIZED_IP_RANGES = 200;

/** What an authorized IP range must look like, for problem messages. */
export const CIDR_EXPECTED = "an IPv4 CIDR block such as 203.0.113.0/24 (one address: 203.0.113.7/32), with no host bits set";

/** The four octets and the prefix length of `a.b.c.d/n`, or undefined when it is not one. */
function parse(text: string): { octets: number[]; prefix: number } | undefined {
    const parts: string[] = [""];
    let slash = false;
    for (const ch of text) {
        if (ch === ".") {
            if (slash) return undefined;
            parts.push("");
        } else if (ch === "/") {
            if (slash) return undefined;
            slash = true;
            parts.push("");
        } else if (ch >= "0" && ch <= "9") {
            const last = parts[parts.length - 1];
            if (last.length >= 3) return undefined;
            parts[parts.length - 1] = last + ch;
        } else return undefined;
    }
    if (!slash || parts.length !== 5) return undefined;
    // No empty part, no leading zero (`010` reads as octal in some tools and decimal in others).
    if (parts.some((p) => p === "" || (p.length > 1 && p.startsWith("0")))) return undefined;
    const numbers = parts.map(Number);
    const prefix = numbers[4];
    const octets = numbers.slice(0, 4);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    return { octets, prefix };
}

/** Why `text` is not an authorized IP range (`undefined`: it is one). */
export function cidrProblem(text: string): string | undefined {
    const parsed = parse(text);
    if (parsed === undefined) return CIDR_EXPECTED;
    const { octets, prefix } = parsed;
    const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const hostMask = prefix === 32 ? 0 : (0xffffffff >>> prefix);
    if ((address & hostMask) !== 0) {
        const network = (address & ~hostMask) >>> 0;
        const dotted = [24, 16, 8, 0].map((s) => (network >>> s) & 255).join(".");
        return `${CIDR_EXPECTED}: ${dotted}/${prefix}, or /32 for the address itself`;
    }
    return undefined;
}
