import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A tmpfs mounted by the test; {@link unmount} removes it and its mount point. */
export interface Tmpfs {
  readonly dir: string;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeBytes` on a fresh directory under the system temp
 * dir. Rejects when the machine does not allow it (not root, no mount).
 */
export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-tmpfs-"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let mounted = true;
  return {
    dir,
    async unmount() {
      if (!mounted) return;
      mounted = false;
      // Lazy: a process still holding a file must not leave the mount behind.
      await run("umount", ["-l", dir]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
