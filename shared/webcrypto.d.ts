// Minimal ambient declarations for the Web platform APIs that `shared/` may use.
// `shared/` is type-checked on its own with no DOM, Node or Workers types, so that nothing
// platform-specific slips in; Node 20 and workerd both provide these globals at run time.
declare global {
  interface SubtleCrypto {
    digest(
      algorithm: 'SHA-256' | 'SHA-1' | 'SHA-384' | 'SHA-512',
      data: ArrayBufferView | ArrayBuffer,
    ): Promise<ArrayBuffer>;
  }
  interface Crypto {
    readonly subtle: SubtleCrypto;
    getRandomValues<T extends ArrayBufferView>(array: T): T;
  }
  var crypto: Crypto;
  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
    decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
  }
  var console: {
    log(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  };
  interface ReadableStream<R = unknown> {
    getReader(): { read(): Promise<{ done: boolean; value?: R }>; releaseLock(): void };
  }
  interface WritableStream<W = unknown> {
    getWriter(): { write(chunk: W): Promise<void>; close(): Promise<void>; releaseLock(): void };
  }
  /** gzip for event objects (shared/events.ts): a web standard in Node 18+ and workerd. */
  class CompressionStream {
    constructor(format: 'gzip' | 'deflate' | 'deflate-raw');
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array<ArrayBuffer>>;
  }
  class DecompressionStream {
    constructor(format: 'gzip' | 'deflate' | 'deflate-raw');
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array<ArrayBuffer>>;
  }
  function setTimeout(handler: () => void, ms?: number): unknown;
  function clearTimeout(id: unknown): void;
}
export {};
