import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { verifyVersionFolder } from '../publish/verify.ts';
import { FsStore } from '../store/fs.ts';
import { CLIError } from './errors.ts';

/** The API keys `reelrank start` gives the local Worker, and whether each was generated. */
export interface StartKeys {
  read: string;
  write: string;
  readGenerated: boolean;
  writeGenerated: boolean;
}

/** A random key: 32 bytes, base64url (43 characters, safe in a header and a shell). */
export function randomApiKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Keys from REELRANK_READ_KEY / REELRANK_WRITE_KEY, else random ones for this run. A key holds no
 * comma (the Worker secrets are comma-separated lists) and no whitespace.
 */
export function startKeys(env: NodeJS.ProcessEnv = process.env): StartKeys {
  const pick = (name: string): [string, boolean] => {
    const value = env[name]?.trim();
    if (value === undefined || value === '') return [randomApiKey(), true];
    if (/[\s,"'\\]/.test(value))
      throw new CLIError(`${name} must not contain commas, quotes, backslashes or whitespace`);
    return [value, false];
  };
  const [read, readGenerated] = pick('REELRANK_READ_KEY');
  const [write, writeGenerated] = pick('REELRANK_WRITE_KEY');
  return { read, write, readGenerated, writeGenerated };
}

/**
 * The env files `wrangler dev --env-file ...` gets: the user's own `.dev.vars` (or `.env`) first,
 * untouched, then a file generated under `persistTo` holding the keys as the Worker secrets
 * READ_API_KEYS / WRITE_API_KEYS (later files win). With `--env-file`, wrangler reads exactly
 * these files, so the user's local settings keep working and nothing of theirs is overwritten.
 */
export async function writeSecretsFile(
  keys: StartKeys,
  { repoRoot, persistTo }: { repoRoot: string; persistTo: string },
): Promise<string[]> {
  await mkdir(persistTo, { recursive: true });
  const file = join(persistTo, 'reelrank-start.env');
  await writeFile(
    file,
    `# Written by 'reelrank start' for wrangler dev; regenerated on every start.\nREAD_API_KEYS="${keys.read}"\nWRITE_API_KEYS="${keys.write}"\n`,
    { mode: 0o600 },
  );
  await chmod(file, 0o600);
  const own = ['.dev.vars', '.env'].map((name) => join(repoRoot, name)).find((path) => existsSync(path));
  return own ? [own, file] : [file];
}

/** Fails with a CLIError naming the port when something already listens on 127.0.0.1:`port`. */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new CLIError(
              `port ${port} on ${host} is ${error.code === 'EACCES' ? 'not allowed' : 'in use'} (another 'reelrank start' or wrangler dev?); stop it or pass --port <free port>`,
            )
          : error,
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** What a reusable version must have been trained with. */
export interface ReuseWanted {
  datasetFingerprint: string;
  model: string;
  rankModel: string;
  seed: number;
  content: boolean;
  tmdb: boolean;
  posters: boolean;
}

/**
 * The newest version folder under `out` trained on the same data (dataset fingerprint), model,
 * ranking model and seed, with the same content / TMDB / poster inputs, whose files all verify.
 * null when there is none: then `reelrank start` trains.
 */
export async function reusableVersion(
  out: string,
  wanted: ReuseWanted,
): Promise<{ dir: string; version: string; createdAt: string } | null> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    return null;
  }
  const candidates: { dir: string; version: string; createdAt: string }[] = [];
  for (const name of names) {
    const dir = join(out, name);
    let manifest: {
      version?: unknown;
      createdAt?: unknown;
      datasetFingerprint?: unknown;
      trainingConfig?: Record<string, unknown>;
    };
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    } catch {
      continue; // not a version folder (README.md, embed output, a half-written run)
    }
    const config = manifest.trainingConfig ?? {};
    const ranking = config.ranking as { model?: unknown } | null | undefined;
    if (
      typeof manifest.version === 'string' &&
      typeof manifest.createdAt === 'string' &&
      manifest.datasetFingerprint === wanted.datasetFingerprint &&
      config.model === wanted.model &&
      config.seed === wanted.seed &&
      ranking?.model === wanted.rankModel &&
      (config.textEmbeddings != null) === wanted.content &&
      (config.tmdbJoined != null) === wanted.tmdb &&
      (config.visualEmbeddings != null) === wanted.posters
    )
      candidates.push({ dir, version: manifest.version, createdAt: manifest.createdAt });
  }
  candidates.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  for (const candidate of candidates) {
    const report = await verifyVersionFolder(new FsStore(candidate.dir));
    if (report.problems.length === 0) return candidate;
  }
  return null;
}
