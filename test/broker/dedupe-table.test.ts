import { describe, expect, it } from "vitest";
import { DedupeTable } from "../../src/broker/dedupe-table.js";

/** A ring of 2^10 slots whose entries all hash to one home slot (same low bits of h0), so probe runs get long. */
function crowdedRing(entries: number) {
  const capacity = 1024;
  const h0 = new Uint32Array(capacity);
  const h1 = new Uint32Array(capacity);
  const h2 = new Uint32Array(capacity);
  const topic = new Uint32Array(capacity);
  const table = new DedupeTable(capacity, h0, h1, h2, topic);
  for (let i = 0; i < entries; i++) {
    // Home slot 2040 of 2048 (low 11 bits), so runs also wrap past the end; tags differ.
    h0[i] = ((i + 1) << 11) | 2040;
    h1[i] = i;
    h2[i] = ~i >>> 0;
    topic[i] = 1;
    table.insert(i);
  }
  const find = (i: number) => table.find(h0[i]!, h1[i]!, h2[i]!, 1);
  return { table, find };
}

describe("DedupeTable", () => {
  it("finds every entry of a probe run longer than the distance a slot records (255), after removals from its start, middle and end", () => {
    const n = 600;
    const { table, find } = crowdedRing(n);
    for (let i = 0; i < n; i++) expect(find(i)).toBe(i);
    const removed = new Set([0, 1, 2, 254, 255, 256, 300, 598, 599]);
    for (let i = 10; i < 590; i += 7) removed.add(i);
    for (const i of removed) table.remove(i);
    for (let i = 0; i < n; i++) expect(find(i)).toBe(removed.has(i) ? -1 : i);
    // Removing the rest leaves an empty table: every slot's entry was found where the shifts put it.
    for (let i = 0; i < n; i++) if (!removed.has(i)) table.remove(i);
    for (let i = 0; i < n; i++) expect(find(i)).toBe(-1);
  });

  it("re-inserted entries land where lookups find them after the run was shifted back", () => {
    const { table, find } = crowdedRing(400);
    for (let i = 0; i < 400; i += 2) table.remove(i);
    for (let i = 0; i < 400; i += 2) table.insert(i);
    for (let i = 0; i < 400; i++) expect(find(i)).toBe(i);
  });

  it("moves an entry 255 or more slots from home back past a run of entries that sit at their own homes", () => {
    const capacity = 1024;
    const cols = [new Uint32Array(capacity), new Uint32Array(capacity), new Uint32Array(capacity), new Uint32Array(capacity)] as const;
    const [h0, h1, h2, topic] = cols;
    const table = new DedupeTable(capacity, ...cols);
    const home = 100;
    const add = (i: number, homeSlot: number) => {
      h0[i] = ((i + 1) << 11) | homeSlot;
      h1[i] = i;
      h2[i] = i;
      topic[i] = 1;
      table.insert(i);
    };
    add(0, home); // at its home slot
    for (let i = 1; i <= 300; i++) add(i, home + i); // each at its own home slot
    add(301, home); // 301 slots from home: past what a slot records
    table.remove(0);
    // The entries at their homes stay; the far one moves into the hole, where a lookup from its home finds it.
    expect(table.find(h0[301]!, h1[301]!, h2[301]!, 1)).toBe(301);
    for (let i = 1; i <= 300; i++) expect(table.find(h0[i]!, h1[i]!, h2[i]!, 1)).toBe(i);
  });
});
