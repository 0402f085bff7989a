// A scripted raw BGP peer (test/integration/fixtures/raw-*.ts) run in a lab host: the script
// gets its arguments and, last, a "go" file; it plays its first phase, waits for that file,
// plays the rest and prints one JSON line per phase. finish() writes the go file, waits for
// the script to exit and returns its JSON lines.
import { writeFileSync } from 'node:fs';
import type { Lab, ProcHandle } from '../../lab/netns.js';
import { REPO_ROOT } from '../../lab/process.js';

export interface RawScript {
  readonly proc: ProcHandle;
  finish<T = Record<string, unknown>>(): Promise<T[]>;
}

export function spawnRawScript(lab: Lab, host: string, script: string, args: readonly string[]): RawScript {
  const goFile = lab.path(`${host}-go`);
  const proc = lab.spawn(host, process.execPath, ['--import', 'tsx', `test/integration/fixtures/${script}`, ...args, goFile],
    { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
  return {
    proc,
    async finish<T>() {
      writeFileSync(goFile, 'go\n');
      await proc.exited;
      return proc.log().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
    },
  };
}
