// A TCP proxy in front of a test etcd. Its etcd → client direction can be held (reads stop
// from etcd, so etcd's sends back up as a slow client's would) and released again; the
// client → etcd direction always flows. cut() resets every open connection (a connection
// lost mid-watch); refuse(true) resets new ones at once until refuse(false) (etcd
// unreachable for the client while others still reach it).
import type { Test } from 'tap';
import { connect, createServer, type Socket } from 'node:net';

export interface PausableProxy {
  endpoint: string;
  hold(): void;
  release(): void;
  cut(): void;
  refuse(on: boolean): void;
}

export async function pausableProxy(t: Test, target: number): Promise<PausableProxy> {
  const ups = new Set<Socket>();
  const downs = new Set<Socket>();
  let held = false;
  let refusing = false;
  const srv = createServer((down) => {
    if (refusing) {
      down.on('error', () => undefined);
      down.resetAndDestroy();
      return;
    }
    const up = connect(target, '127.0.0.1');
    ups.add(up);
    downs.add(down);
    if (held) up.pause();
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => down.write(d));
    const end = (): void => {
      ups.delete(up);
      downs.delete(down);
      up.destroy();
      down.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  const cut = (): void => {
    for (const s of [...downs]) s.resetAndDestroy();
    for (const s of [...ups]) s.destroy();
  };
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { cut(); srv.close(); });
  const addr = srv.address();
  return {
    endpoint: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    hold: () => { held = true; ups.forEach((u) => u.pause()); },
    release: () => { held = false; ups.forEach((u) => u.resume()); },
    cut,
    refuse: (on: boolean) => { refusing = on; },
  };
}
