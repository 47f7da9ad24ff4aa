import { BrokerError } from "./broker-error.js";

const NAME = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Checks a topic or group name: 1 to 200 of [A-Za-z0-9._-].
 * @throws BrokerError invalid-argument, naming what is wrong.
 */
export function checkName(kind: "topic" | "group", name: string): void {
  if (NAME.test(name)) return;
  if (name.length === 0) throw new BrokerError("invalid-argument", `${kind} name is empty`);
  if (name.length > 200) {
    throw new BrokerError("invalid-argument", `${kind} name is ${name.length} characters long; the maximum is 200`);
  }
  const bad = [...name].find((c) => !/[A-Za-z0-9._-]/.test(c)) ?? "";
  throw new BrokerError(
    "invalid-argument",
    `${kind} name ${JSON.stringify(name)} contains ${JSON.stringify(bad)}; allowed are letters, digits, '.', '_' and '-'`,
  );
}
