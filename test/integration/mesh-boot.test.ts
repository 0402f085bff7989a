// Nodes that boot together: five tern daemons started at the same instant against one etcd
// (as after a power cut or a DaemonSet rollout) must reach the full mesh. Each round wipes
// Calico's keys, writes the base resources, starts all five at once (no daemon waits for
// another) and waits for every node to have the four others Established, then stops them.
//
// Rounds: 3 here (npm test); `npm run soak:mesh` runs the same file with
// TERN_SOAK_ROUNDS=20 (docs/testing.md).
import t from 'tap';
import { createLab } from '../../lab/netns.js';
import { startTern } from '../helpers/tern.js';
import { baseYaml, buildMeshLab, nodeDef, waitMesh, type MeshLab } from './mesh-lab.js';

const ROUNDS = Number(process.env.TERN_SOAK_ROUNDS ?? 3);
const DEFS = [1, 2, 3, 4, 5].map((i) => nodeDef(i));
const lab = createLab(t, { area: 'meshboot' });
let m: MeshLab;

t.before(async () => {
  m = await buildMeshLab(lab, []);
  for (const d of DEFS) await m.plug(d);
});

for (let round = 1; round <= ROUNDS; round++) {
  t.test(`round ${round}: five nodes started at once form the full mesh`, async (t) => {
    await m.etcdctl('del', '--prefix', '/calico/');
    await m.apply(baseYaml(DEFS), `base-${round}`);
    // All five spawned in the same tick; readiness is awaited only after every spawn.
    const handles = await Promise.all(DEFS.map((d) => startTern(lab, d.name, {
      datastore: m.ds, node: d.name, ip: `${d.ip}/24`, extraArgs: ['--no-fib'],
    })));
    handles.forEach((h, i) => m.terns.set(DEFS[i]!.name, h));
    try {
      for (const d of DEFS) {
        const others = DEFS.filter((o) => o !== d).map((o) => o.ip);
        const peers = await waitMesh(m, d.name, others, 45_000);
        t.equal(peers.length, 4, `${d.name}: 4 Established mesh peers`);
      }
      for (const h of handles) {
        const st = await h.status();
        t.ok((st.daemon.datastore?.etcdRevision ?? 0) > 0, `${h.node}: status reports the etcd revision in use`);
      }
    } finally {
      await Promise.all(handles.map((h) => h.stop()));
      m.terns.clear();
    }
  });
}
