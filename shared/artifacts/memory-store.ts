/**
 * An in-memory ObjectStore: for tests, and for handing a freshly trained version to code that
 * reads stores (evaluation, a local server) without touching disk.
 */
import type { ObjectInfo } from '../store.ts';
import type { ConditionalStore, VersionedObject } from './conditional.ts';

export class MemoryStore implements ConditionalStore {
  readonly description: string;
  private readonly objects = new Map<string, Uint8Array>();
  private readonly etags = new Map<string, string>();
  private generation = 0;

  constructor(name = 'memory') {
    this.description = `memory://${name}`;
  }

  async get(key: string): Promise<Uint8Array | null> {
    const bytes = this.objects.get(key);
    // Hand out a copy: callers must not be able to alter what the store holds.
    return bytes === undefined ? null : bytes.slice();
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    this.objects.set(key, body.slice());
    this.etags.set(key, `g${++this.generation}`);
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    const bytes = this.objects.get(key);
    return bytes === undefined ? null : { bytes: bytes.slice(), etag: this.etags.get(key)! };
  }

  async putIf(key: string, body: Uint8Array, expectedEtag: string | null): Promise<boolean> {
    // Check and write with no await in between: atomic on the single JS thread.
    if ((this.etags.get(key) ?? null) !== expectedEtag) return false;
    this.objects.set(key, body.slice());
    this.etags.set(key, `g${++this.generation}`);
    return true;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const bytes = this.objects.get(key);
    return bytes === undefined ? null : { key, size: bytes.length };
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, bytes]) => ({ key, size: bytes.length }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
    this.etags.delete(key);
  }
}
