// Test helper: a TCP proxy to a local etcd whose etcd → client direction can be held (the
// proxy stops reading from etcd, so etcd's sends back up as a slow client's would) and
// released again. The client → etcd direction always flows.
import type { Test } from 'tap';
import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy to etcd whose etcd → client direction can be held (reads stop). */
export async function pausableProxy(t: Test, target: number): Promise<{ endpoint: string; hold(): void; release(): void }> {
  const ups: Socket[] = [];
  let held = false;
  const srv = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    ups.push(up);
    if (held) up.pause();
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => down.write(d));
    const end = (): void => { up.destroy(); down.destroy(); };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { ups.forEach((s) => s.destroy()); srv.close(); });
  const addr = srv.address();
  return {
    endpoint: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    hold: () => { held = true; ups.forEach((u) => u.pause()); },
    release: () => { held = false; ups.forEach((u) => u.resume()); },
  };
}
