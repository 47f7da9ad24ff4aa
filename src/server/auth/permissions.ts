/** The three things an identity may be allowed to do to a topic. */
export type Permission = "publish" | "subscribe" | "admin";

// Names are [A-Za-z0-9._-] (src/broker/names.ts); a pattern may end in `*`.
const PATTERN = /^[A-Za-z0-9._-]*\*?$/;

/**
 * A topic or group name pattern: an exact name (`orders`), or a prefix
 * followed by `*` (`orders.*` matches `orders.eu` but not `orders`; `*` alone
 * matches every name). `*` anywhere but at the end is rejected, so a pattern
 * never means more than it looks like.
 */
export class NamePattern {
  private constructor(
    /** The pattern as written. */
    readonly source: string,
    private readonly prefix: string,
    private readonly wildcard: boolean,
  ) {}

  /** @throws Error with a message saying what is wrong with `text`. */
  static parse(text: string): NamePattern {
    if (text === "") throw new Error("a pattern may not be empty");
    if (text.length > 201 || !PATTERN.test(text)) {
      throw new Error(
        `${JSON.stringify(text)} is not a name pattern: use a name of letters, digits, '.', '_', '-', optionally ending in '*'`,
      );
    }
    const wildcard = text.endsWith("*");
    return new NamePattern(text, wildcard ? text.slice(0, -1) : text, wildcard);
  }

  /** Whether `name` matches: equal to an exact pattern, or starting with a wildcard pattern's prefix. */
  matches(name: string): boolean {
    return this.wildcard ? name.startsWith(this.prefix) : name === this.prefix;
  }
}

/** `subscribe` on some topics, through any group or only the listed ones. */
export interface SubscribeGrant {
  readonly topics: readonly NamePattern[];
  /** `"any"` when the grant does not narrow groups. */
  readonly groups: readonly NamePattern[] | "any";
}

/**
 * What a call needs: a permission on a topic (and, for `subscribe`, the
 * group), or a permission on some topic at least (ListTopics, which then
 * shows only the topics covered).
 */
export type Need =
  | { readonly permission: Permission; readonly topic: string; readonly group?: string }
  | { readonly permission: Permission; readonly anyTopic: true };

/** A need in words, for PERMISSION_DENIED messages: `publish on topic "orders"`. */
export function describeNeed(need: Need): string {
  if ("anyTopic" in need) return `${need.permission} on any topic`;
  const group = need.group === undefined ? "" : ` with group ${JSON.stringify(need.group)}`;
  return `${need.permission} on topic ${JSON.stringify(need.topic)}${group}`;
}

/** What one identity may do. Immutable; a tokens-file reload builds new ones. */
export class Grants {
  constructor(
    private readonly publish: readonly NamePattern[],
    private readonly subscribe: readonly SubscribeGrant[],
    private readonly admin: readonly NamePattern[],
  ) {}

  /** No permission at all (a valid identity that may do nothing yet). */
  static readonly NONE = new Grants([], [], []);

  /** Whether these grants cover `need`. */
  allows(need: Need): boolean {
    if ("anyTopic" in need) {
      return need.permission === "subscribe" ? this.subscribe.length > 0 : this.patterns(need.permission).length > 0;
    }
    if (need.permission !== "subscribe") return this.patterns(need.permission).some((p) => p.matches(need.topic));
    return this.subscribe.some(
      (g) =>
        g.topics.some((p) => p.matches(need.topic)) &&
        (g.groups === "any" || (need.group !== undefined && g.groups.some((p) => p.matches(need.group!)))),
    );
  }

  private patterns(permission: "publish" | "admin"): readonly NamePattern[] {
    return permission === "publish" ? this.publish : this.admin;
  }
}
