#!/usr/bin/env node
/**
 * Rebuilds classic-level's LevelDB from the source it ships so that LevelDB
 * reads table files with `pread` instead of mapping them into memory.
 *
 * Why: LevelDB 1.20 maps every table it opens (up to 1,000) and keeps the
 * last 64 it used open, whatever `maxOpenFiles` says. A consumer reading a
 * backlog touches every page of each table it passes, and those pages count
 * in the broker's RSS until the table leaves that cache: ~60 MB with 100
 * streams draining a 10M-message backlog (docs/benchmarks.md, tuning log
 * 15). Read with `pread`, the same pages stay in the kernel's page cache,
 * shared and reclaimable, and LevelDB's own block cache (8 MB) bounds what
 * the process holds. The change is one constant: the mmap limit, from 1,000
 * to 0, which LevelDB already supports (it is what 32-bit builds use).
 *
 * Runs as `postinstall` (so `npm ci` builds it) and as `npm run
 * build:leveldb`. Needs a C++ compiler, make and Python 3 (node-gyp) and
 * Node's headers (found beside the node binary, else node-gyp downloads
 * them). On failure it warns and leaves classic-level's prebuilt binary in
 * place: the broker works the same and says at start that it reads through
 * mmap. `--strict` makes a failure exit 1.
 *
 * It builds in node_modules/.cache/sluice-leveldb and installs the result
 * as classic-level's `build/Release/classic_level.node`, which
 * node-gyp-build loads before the prebuilt binaries, with a marker beside
 * it (`sluice-leveldb.json`) holding the binary's SHA-256, which the broker
 * checks at start (src/storage/level-build.ts).
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const strict = process.argv.includes("--strict");

/** The line of LevelDB 1.20's util/env_posix.cc that sets the mmap limit, and what it becomes. */
const MMAP_LIMIT_LINE = "mmap_limit = sizeof(void*) >= 8 ? 1000 : 0;";
const NO_MMAP_LINE = "mmap_limit = 0;  // Sluice: read tables with pread (tools/build-leveldb.mjs)";
const ENV_POSIX = "deps/leveldb/leveldb-1.20/util/env_posix.cc";
/** Bumped when the patch changes, so that an older build is redone. */
const PATCH_VERSION = 1;
const MARKER_FILE = "sluice-leveldb.json";

function main() {
  if (process.platform !== "linux" && process.platform !== "darwin") {
    console.log(`sluice: LevelDB rebuild skipped on ${process.platform} (only Linux and macOS read tables through mmap)`);
    return 0;
  }
  const pkgDir = path.dirname(require.resolve("classic-level/package.json"));
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const releaseDir = path.join(pkgDir, "build", "Release");
  const target = path.join(releaseDir, "classic_level.node");
  const marker = path.join(releaseDir, MARKER_FILE);
  const wanted = { patch: PATCH_VERSION, classicLevel: version, modules: process.versions.modules, napi: process.versions.napi };
  if (upToDate(target, marker, wanted)) {
    console.log("sluice: LevelDB without mmap is already built");
    return 0;
  }

  const work = path.join(pkgDir, "..", ".cache", "sluice-leveldb");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const entry of ["binding.gyp", "binding.cc", "deps"]) {
    cpSync(path.join(pkgDir, entry), path.join(work, entry), { recursive: true });
  }
  patchMmapLimit(path.join(work, ENV_POSIX));

  const args = [nodeGyp(), "rebuild", "--release", "--jobs", "max", ...nodeDir()];
  console.log(`sluice: building LevelDB without mmap (classic-level ${version}): node ${args.join(" ")}`);
  const run = spawnSync(process.execPath, args, { cwd: work, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "warn" } });
  if (run.status !== 0) {
    const output = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim().split("\n").slice(-25).join("\n");
    throw new Error(`node-gyp exited with ${run.status ?? run.signal ?? run.error}:\n${output}`);
  }
  const built = path.join(work, "build", "Release", "classic_level.node");
  mkdirSync(releaseDir, { recursive: true });
  copyFileSync(built, target);
  writeFileSync(marker, JSON.stringify({ ...wanted, sha256: sha256(target) }, null, 2) + "\n");
  rmSync(work, { recursive: true, force: true });
  console.log(`sluice: installed ${path.relative(process.cwd(), target)} (LevelDB reads tables with pread)`);
  return 0;
}

/** Whether the installed binary is ours, for this classic-level, Node ABI and patch. */
function upToDate(target, marker, wanted) {
  if (!existsSync(target) || !existsSync(marker)) return false;
  try {
    const m = JSON.parse(readFileSync(marker, "utf8"));
    return Object.entries(wanted).every(([k, v]) => m[k] === v) && m.sha256 === sha256(target);
  } catch {
    return false;
  }
}

function patchMmapLimit(file) {
  const source = readFileSync(file, "utf8");
  const at = source.indexOf(MMAP_LIMIT_LINE);
  if (at < 0 || source.indexOf(MMAP_LIMIT_LINE, at + 1) >= 0) {
    throw new Error(`${ENV_POSIX} does not hold exactly one "${MMAP_LIMIT_LINE}": classic-level's LevelDB changed; update tools/build-leveldb.mjs`);
  }
  writeFileSync(file, source.replace(MMAP_LIMIT_LINE, NO_MMAP_LINE));
}

/** node-gyp: the one npm runs scripts with, else the one bundled with npm beside this node. */
function nodeGyp() {
  const candidates = [
    process.env["npm_config_node_gyp"],
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return require.resolve("node-gyp/bin/node-gyp.js");
  } catch {
    throw new Error("node-gyp not found (it comes with npm)");
  }
}

/** Node's headers beside the running node (Debian and the official tarballs put them there), so nothing is downloaded. */
function nodeDir() {
  const root = path.resolve(path.dirname(process.execPath), "..");
  return existsSync(path.join(root, "include", "node", "node_api.h")) ? [`--nodedir=${root}`] : [];
}

function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

try {
  process.exitCode = main();
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.warn(
    `sluice: could not build LevelDB without mmap; classic-level's prebuilt binary stays, which works the same ` +
      `but maps table files into memory (~60 MB more RSS while consumers read a backlog). ` +
      `Install a C++ compiler, make and Python 3, then run \`npm run build:leveldb\`.\n${message}`,
  );
  process.exitCode = strict ? 1 : 0;
}
