import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RecordKind, StagedClientStore } from './client-store';

const FORMAT = 'sealpost-client-state/1';

interface StateFile {
  format: typeof FORMAT;
  records: Record<string, Record<string, string>>;
}

/**
 * A client's state in one JSON file (`state.json` in the directory given), written mode 0600.
 * Every commit writes a new file, fsyncs it and renames it over the old one, then fsyncs the
 * directory: a crash leaves either the state before the commit or the one after, never a mix.
 * A file that exists but is not this format is an error, never a fresh start (that would throw
 * away the identity key and every session).
 */
export class FileClientStore extends StagedClientStore {
  private constructor(
    private readonly path: string,
    records: Map<RecordKind, Map<string, string>>,
  ) {
    super(records);
  }

  static async open(directory: string): Promise<FileClientStore> {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, 'state.json');
    return new FileClientStore(path, await readState(path));
  }

  protected async persist(records: Map<RecordKind, Map<string, string>>): Promise<void> {
    const state: StateFile = { format: FORMAT, records: {} };
    for (const [kind, map] of records) state.records[kind] = Object.fromEntries(map);
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(state));
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, this.path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    const directory = await open(dirname(this.path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

async function readState(path: string): Promise<Map<RecordKind, Map<string, string>>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return new Map();
    throw error;
  }
  let state: Partial<StateFile>;
  try {
    state = JSON.parse(text) as Partial<StateFile>;
  } catch {
    throw new Error(`client state ${path} is not valid JSON; refusing to start afresh (it holds the identity key and sessions)`);
  }
  if (state?.format !== FORMAT || typeof state.records !== 'object' || state.records === null) {
    throw new Error(`client state ${path} is not in the expected format (${FORMAT})`);
  }
  return new Map(Object.entries(state.records).map(([kind, map]) => [kind as RecordKind, new Map(Object.entries(map))]));
}
