import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ReelrankError } from '../../shared/errors.ts';
import type { ConditionalStore, VersionedObject } from '../../shared/artifacts/conditional.ts';
import { sha256Hex } from '../../shared/hash.ts';
import type { ObjectInfo } from '../../shared/store.ts';

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * An ObjectStore over a local folder: key 'a/b.bin' is file '<root>/a/b.bin'. Writes are atomic
 * (temp file in the same folder, fsync, rename), so a reader never sees half a file.
 */
export class FsStore implements ConditionalStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = pathToFileURL(this.root).href;
  }

  /** The file of a key; refuses keys that would escape the root. */
  pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (
      key.length === 0 ||
      key.startsWith('/') ||
      (path !== this.root && !path.startsWith(this.root + sep))
    ) {
      throw new ReelrankError('bad_input', `Key ${JSON.stringify(key)} escapes the store root ${this.root}.`);
    }
    return path;
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const buffer = await readFile(this.pathOf(key));
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const path = this.pathOf(key);
    try {
      await stat(path);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    return Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** The object with its sha256 as etag. */
  async getVersioned(key: string): Promise<VersionedObject | null> {
    const bytes = await this.get(key);
    return bytes === null ? null : { bytes, etag: await sha256Hex(bytes) };
  }

  /**
   * Compare-and-swap through an exclusive lock file beside the object (`<file>.tmp-lock`, created
   * with O_EXCL): read, compare the sha256 etag, write atomically, unlock. A lock older than
   * LOCK_STALE_MS is taken to be left by a crashed process and removed.
   */
  async putIf(key: string, body: Uint8Array, expectedEtag: string | null): Promise<boolean> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const lock = `${path}.tmp-lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > LOCK_STALE_MS) await rm(lock, { force: true });
        else if (Date.now() > deadline) {
          throw new ReelrankError(
            'artifact_conflict',
            `Could not lock ${path} within ${LOCK_WAIT_MS} ms (${lock} is held).`,
          );
        } else await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
      }
    }
    try {
      const current = await this.getVersioned(key);
      if ((current?.etag ?? null) !== expectedEtag) return false;
      await this.put(key, body);
      return true;
    } finally {
      await rm(lock, { force: true });
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, size: info.size } : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          await walk(path);
        } else if (entry.isFile() && !entry.name.includes('.tmp-')) {
          const key = relative(this.root, path).split(sep).join('/');
          if (key.startsWith(prefix)) out.push({ key, size: (await stat(path)).size });
        }
      }
    };
    // Only walk the folder the prefix names (e.g. 'versions/' or 'versions/v1/'), not the whole root.
    const slash = prefix.lastIndexOf('/');
    await walk(slash < 0 ? this.root : this.pathOf(prefix.slice(0, slash)));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
    // Remove folders left empty, so a pruned version leaves nothing behind.
    let dir = dirname(this.pathOf(key));
    while (dir !== this.root && dir.startsWith(this.root)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }
}
