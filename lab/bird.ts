// A BIRD 2 process inside a lab host: config written to the lab dir, checked with `bird -p`,
// run in the foreground with its control socket and log in the lab dir.
import { writeFileSync } from 'node:fs';
import type { Lab, ProcHandle } from './netns.js';

export interface BirdProcess { proc: ProcHandle; socket: string; configFile: string; birdc(...args: string[]): Promise<string> }

export async function spawnBird(lab: Lab, host: string, config: string, opts: { recovery?: boolean } = {}): Promise<BirdProcess> {
  const base = `${host}-bird`;
  const configFile = lab.path(`${base}.conf`);
  const socket = lab.path(`${base}.ctl`);
  writeFileSync(configFile, config);
  await lab.exec(host, 'bird', ['-p', '-c', configFile]);
  const args = ['-f', '-c', configFile, '-s', socket, '-P', lab.path(`${base}.pid`)];
  // calico-node runs `bird -R` (graceful-restart recovery).
  if (opts.recovery) args.push('-R');
  const proc = lab.spawn(host, 'bird', args, { logFile: lab.path(`${base}.log`) });
  const birdc = async (...a: string[]) => (await lab.exec(host, 'birdc', ['-s', socket, ...a])).stdout;
  return { proc, socket, configFile, birdc };
}
