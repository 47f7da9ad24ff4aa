/**
 * Which LevelDB binary classic-level loads: the one `tools/build-leveldb.mjs`
 * rebuilt to read table files with `pread`, or classic-level's prebuilt one,
 * which maps them into memory (and so into the broker's RSS: up to 64
 * tables, ~60 MB while consumers read a backlog).
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** What {@link levelDbBuild} found. */
export interface LevelDbBuild {
  /** Whether LevelDB maps table files into memory to read them. */
  readonly readsWithMmap: boolean;
  /** Why it says so, for the start log. */
  readonly detail: string;
}

/** Written by tools/build-leveldb.mjs beside the binary it installs. */
const MARKER_FILE = "sluice-leveldb.json";

/**
 * Looks for the rebuilt binary where node-gyp-build loads it first
 * (classic-level's `build/Release`), and checks that the marker beside it
 * describes that very file, so that a later `npm rebuild classic-level`,
 * which overwrites the binary, is not taken for ours.
 */
export function levelDbBuild(): LevelDbBuild {
  const require = createRequire(import.meta.url);
  const releaseDir = path.join(path.dirname(require.resolve("classic-level/package.json")), "build", "Release");
  let marker: { sha256?: unknown };
  let binary: Buffer;
  try {
    marker = JSON.parse(readFileSync(path.join(releaseDir, MARKER_FILE), "utf8")) as { sha256?: unknown };
    binary = readFileSync(path.join(releaseDir, "classic_level.node"));
  } catch {
    return { readsWithMmap: true, detail: "classic-level's prebuilt LevelDB (npm run build:leveldb rebuilds it to read with pread)" };
  }
  if (marker.sha256 !== createHash("sha256").update(binary).digest("hex")) {
    return { readsWithMmap: true, detail: `${releaseDir}/classic_level.node is not the one npm run build:leveldb built; run it again` };
  }
  return { readsWithMmap: false, detail: "LevelDB rebuilt to read tables with pread (tools/build-leveldb.mjs)" };
}
