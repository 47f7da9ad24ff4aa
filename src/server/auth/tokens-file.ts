import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { Grants, NamePattern, type SubscribeGrant } from "./permissions.js";
import { SecurityConfigError } from "./security-config-error.js";

/** One identity of the tokens file: how it authenticates and what it may do. */
export interface IdentityEntry {
  readonly name: string;
  /** SHA-256 digests (32 bytes each) of the bearer tokens that mean this identity; several allow rotation. */
  readonly tokenDigests: readonly Buffer[];
  /**
   * Client certificate subject attributes (e.g. `{ CN: "analytics" }`) that
   * mean this identity under mutual TLS: every listed attribute must match.
   */
  readonly certSubject?: Readonly<Record<string, string>>;
  readonly grants: Grants;
}

/** The parsed tokens file. */
export interface AccessTable {
  readonly identities: readonly IdentityEntry[];
}

/** SHA-256 of a token, as stored in `token_sha256` (lowercase hex). */
export function hashToken(token: string): string {
  return tokenDigest(token).toString("hex");
}

/** SHA-256 of a token, as bytes. */
export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Reads and validates a tokens file (YAML, or JSON, which is YAML too).
 * @throws SecurityConfigError naming the file and the offending entry.
 */
export async function readTokensFile(file: string): Promise<{ text: string; table: AccessTable }> {
  const text = await readTokensText(file);
  return { text, table: parseTokensFile(text, file) };
}

/**
 * The tokens file's text, unparsed.
 * @throws SecurityConfigError when it cannot be read.
 */
export async function readTokensText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new SecurityConfigError(`cannot read tokens file ${file}: ${(err as Error).message}`);
  }
}

const IDENTITY_KEYS = new Set(["name", "token_sha256", "cert_subject", "publish", "subscribe", "admin"]);
const HEX64 = /^[0-9a-f]{64}$/;
const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9.]*$/;

/**
 * Parses tokens-file text. Unknown keys are errors, not ignored, so a typo
 * never silently drops a permission or a credential. The YAML failsafe
 * schema reads every scalar as a string: a digest of digits and one `e` is
 * not turned into a number.
 * @throws SecurityConfigError naming `file` and the offending entry.
 */
export function parseTokensFile(text: string, file: string): AccessTable {
  const fail = (where: string, message: string): never => {
    throw new SecurityConfigError(`tokens file ${file}: ${where}${where ? ": " : ""}${message}`);
  };
  let doc: unknown;
  try {
    doc = parseYaml(text, { schema: "failsafe" });
  } catch (err) {
    return fail("", `not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (!isMap(doc) || !Object.keys(doc).every((k) => k === "identities")) {
    return fail("", "expected a mapping with one key, `identities` (a list)");
  }
  const list = doc["identities"] ?? [];
  if (!Array.isArray(list)) return fail("identities", "expected a list");

  const names = new Set<string>();
  const digests = new Map<string, string>();
  const subjects = new Map<string, string>();
  const identities = list.map((raw: unknown, i): IdentityEntry => {
    let where = `identities[${i}]`;
    if (!isMap(raw)) return fail(where, "expected a mapping with `name` and `token_sha256` or `cert_subject`");
    const name = raw["name"];
    if (typeof name !== "string" || name === "" || name.length > 200 || /[\p{Cc}]/u.test(name)) {
      return fail(where, "`name` must be a non-empty string of up to 200 printable characters");
    }
    where += ` (${name})`;
    if (names.has(name)) fail(where, "the name is used by an earlier identity");
    names.add(name);
    for (const key of Object.keys(raw)) {
      if (IDENTITY_KEYS.has(key)) continue;
      const hint = key === "token" ? "; store the token's SHA-256 as `token_sha256` (see docs/security.md)" : "";
      fail(where, `unknown key \`${key}\`${hint}; allowed: ${[...IDENTITY_KEYS].join(", ")}`);
    }

    const tokenDigests = strings(raw["token_sha256"], `${where}.token_sha256`, fail).map((hex, j) => {
      const lower = hex.toLowerCase();
      if (!HEX64.test(lower)) fail(`${where}.token_sha256[${j}]`, "expected 64 hex digits (a SHA-256 digest), not the token itself");
      const other = digests.get(lower);
      if (other !== undefined) fail(`${where}.token_sha256[${j}]`, `the same token is already given to ${other}`);
      digests.set(lower, name);
      return Buffer.from(lower, "hex");
    });
    const certSubject = subject(raw["cert_subject"], `${where}.cert_subject`, fail);
    if (certSubject !== undefined) {
      const key = JSON.stringify(Object.entries(certSubject).sort());
      const other = subjects.get(key);
      if (other !== undefined) fail(`${where}.cert_subject`, `the same subject is already given to ${other}`);
      subjects.set(key, name);
    }
    if (tokenDigests.length === 0 && certSubject === undefined) {
      fail(where, "give `token_sha256` or `cert_subject` (or both): otherwise nobody can be this identity");
    }
    const grants = new Grants(
      patterns(raw["publish"], `${where}.publish`, fail),
      subscribeGrants(raw["subscribe"], `${where}.subscribe`, fail),
      patterns(raw["admin"], `${where}.admin`, fail),
    );
    return { name, tokenDigests, certSubject, grants };
  });
  return { identities };
}

type Fail = (where: string, message: string) => never;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A string or a list of strings; absent is the empty list. */
function strings(v: unknown, where: string, fail: Fail): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) return fail(where, "expected a string or a list of strings");
  return v as string[];
}

function patterns(v: unknown, where: string, fail: Fail): NamePattern[] {
  return strings(v, where, fail).map((s, j) => {
    try {
      return NamePattern.parse(s);
    } catch (err) {
      return fail(`${where}[${j}]`, (err as Error).message);
    }
  });
}

function subscribeGrants(v: unknown, where: string, fail: Fail): SubscribeGrant[] {
  if (v === undefined || v === null) return [];
  const items: unknown[] = Array.isArray(v) ? v : [v];
  return items.map((item, j): SubscribeGrant => {
    const at = `${where}[${j}]`;
    if (typeof item === "string") return { topics: patterns(item, at, fail), groups: "any" };
    if (!isMap(item) || !Object.keys(item).every((k) => k === "topics" || k === "groups") || item["topics"] === undefined) {
      return fail(at, "expected a topic pattern, or a mapping `{ topics: [...], groups: [...] }`");
    }
    const groups = item["groups"] === undefined ? "any" : patterns(item["groups"], `${at}.groups`, fail);
    if (groups !== "any" && groups.length === 0) fail(`${at}.groups`, "an empty list allows no group; leave `groups` out to allow any");
    return { topics: patterns(item["topics"], `${at}.topics`, fail), groups };
  });
}

function subject(v: unknown, where: string, fail: Fail): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isMap(v) || Object.keys(v).length === 0) return fail(where, "expected a mapping of subject attributes, e.g. `{ CN: analytics }`");
  for (const [k, value] of Object.entries(v)) {
    if (!ATTRIBUTE.test(k) || typeof value !== "string") fail(where, `attribute ${JSON.stringify(k)} must be a name like CN, O or OU with a string value`);
  }
  return v as Record<string, string>;
}
