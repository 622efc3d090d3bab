/**
 * Where the evaluation's data sets come from: `../shared/data` beside the repository (BANKING77, CLINC150;
 * not shipped in the repository), `--data-dir` or BEEDESK_DATA_DIR. And an on-disk cache of sentence
 * embeddings for them, so repeated evaluations do not re-encode 28k questions.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SentenceEncoder } from './embedding/encoder';

/** The repository root: the nearest directory above `from` whose package.json declares workspaces. */
export function repoRoot(from: string = __dirname): string | null {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
      } catch {
        // not a JSON package file: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The data directory to use, or the list of places looked at when there is none. */
export function findDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): { dir: string } | { tried: string[] } {
  const candidates: string[] = [];
  if (explicit) candidates.push(resolve(explicit));
  else {
    if (env.BEEDESK_DATA_DIR) candidates.push(resolve(env.BEEDESK_DATA_DIR));
    const root = repoRoot();
    if (root) candidates.push(resolve(root, '..', 'shared', 'data'));
  }
  const dir = candidates.find((c) => existsSync(join(c, 'banking77', 'train.csv')) || existsSync(join(c, 'clinc150', 'train.csv')));
  return dir ? { dir } : { tried: candidates };
}

/**
 * Embeddings of evaluation texts kept on disk by model name: `<name>.json` (the texts, in order) and
 * `<name>.f32` (their vectors). Seeds the encoder's in-memory cache and saves what it computed.
 */
export class EmbeddingDiskCache {
  private readonly known = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly name: string,
  ) {}

  load(encoder: SentenceEncoder): number {
    const textsFile = join(this.dir, `${this.name}.json`);
    const vectorsFile = join(this.dir, `${this.name}.f32`);
    if (!existsSync(textsFile) || !existsSync(vectorsFile)) return 0;
    const texts = JSON.parse(readFileSync(textsFile, 'utf8')) as string[];
    const buf = readFileSync(vectorsFile);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const d = encoder.dimension;
    if (all.length !== texts.length * d) return 0;
    const entries: Array<[string, Float32Array]> = texts.map((t, i) => [t, all.slice(i * d, (i + 1) * d)]);
    encoder.seed(entries);
    for (const t of texts) this.known.add(t);
    return texts.length;
  }

  async save(encoder: SentenceEncoder, texts: Iterable<string>): Promise<void> {
    const all = [...new Set([...this.known, ...texts])];
    if (all.length === this.known.size) return;
    const vectors = await encoder.embed(all);
    const d = encoder.dimension;
    const out = new Float32Array(all.length * d);
    vectors.forEach((v, i) => out.set(v, i * d));
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, `${this.name}.f32`), Buffer.from(out.buffer));
    writeFileSync(join(this.dir, `${this.name}.json`), JSON.stringify(all));
    for (const t of all) this.known.add(t);
  }
}
