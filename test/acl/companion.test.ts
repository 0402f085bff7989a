// AclCompanion scheduling and the CLI entry points, against real nft in a namespace of our own
// (`tn-acl-<random>-h`), driven by FakeClock: resync on the timer, retry after a failed
// apply, coalescing of updates, stop with and without cleanup.
import t from 'tap';
import { AclCompanion } from '../../src/acl/companion.js';
import { NftCommand, type NftRunner } from '../../src/acl/nft.js';
import { runAclCompanion, runAclExplain } from '../../src/acl/cli.js';
import { FakeClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import type { Snapshot } from '../../src/model/types.js';
import { createLab, type Lab } from '../../lab/netns.js';
import { gnp, threePods } from './fixtures/resources.js';

/** The real nft, with a switch that makes the next `count` applies fail and counts calls. */
class FaultyNft implements NftRunner {
  failNext = 0;
  applies = 0;
  constructor(private readonly real: NftRunner) {}
  async apply(script: string): Promise<void> {
    this.applies++;
    if (this.failNext > 0) { this.failNext--; throw new Error('injected failure'); }
    await this.real.apply(script);
  }
  listTable(family: string, name: string): Promise<unknown> { return this.real.listTable(family, name); }
}

async function tableText(lab: Lab): Promise<string> {
  return (await lab.exec('h', 'nft', ['list', 'table', 'inet', 'tern'], { allowFail: true })).stdout;
}

t.test('companion: resync timer, retry, coalescing, stop', async (t) => {
  const lab = createLab(t, { area: 'acl' });
  await lab.addHost('h');
  const clock = new FakeClock();
  const nft = new FaultyNft(new NftCommand({ netns: lab.ns('h') }));
  const c = new AclCompanion({ nodeName: 'host-b', logger: silentLogger(), clock, nft, resyncMs: 10_000, retryMs: 1_000 });
  t.teardown(() => c.stop());

  c.update(threePods());
  t.equal(nft.applies, 0, 'nothing written before start()');
  c.start();
  await c.idle();
  t.match(await tableText(lab), /chain tern-tw-calib0000001/);
  t.equal(c.status().appliedRevision, 1);

  nft.failNext = 2; // the incremental transaction, then the full replacement it falls back to
  c.update(threePods({ revision: 2 }, { dbProfiles: [] }));
  await c.idle();
  t.equal(c.status().lastError, 'injected failure');
  t.equal(c.status().appliedRevision, 1, 'failed apply does not count');
  clock.advance(1_000);
  await c.idle();
  t.equal(c.status().lastError, null, 'retried after retryMs');
  t.equal(c.status().appliedRevision, 2);

  const before = nft.applies;
  const long = gnp(`long-${'x'.repeat(240)}`, { order: 1, selector: "role == 'db'", ingress: [{ action: 'Log' }] });
  for (let r = 3; r <= 6; r++) c.update(threePods({ revision: r, gnps: [long, gnp(`p${r}`, { order: r, selector: "role == 'db'", ingress: [{ action: 'Allow' }] })] }));
  await c.idle();
  t.ok(nft.applies - before <= 2, `four updates coalesced into ${nft.applies - before} applies`);
  t.equal(c.status().appliedRevision, 6);
  t.equal(c.status().lastError, null, 'a 245-character policy name is accepted by nft');
  t.match(await tableText(lab), /chain tern-pi-p6/);

  await lab.exec('h', 'nft', ['delete', 'table', 'inet', 'tern']);
  clock.advance(10_000);
  await c.idle();
  t.equal(c.status().repairs, 1, 'resync timer repaired the deleted table');
  t.match(await tableText(lab), /chain tern-pi-p6/);
  t.equal(clock.pendingTimers(), 1, 'the next resync is scheduled');

  await c.stop();
  t.equal(clock.pendingTimers(), 0, 'stop cancels the timers');
  t.match(await tableText(lab), /tern-from-wl/, 'stop keeps the table');
});

t.test('cli: runAclCompanion --once and with a signal, runAclExplain', async (t) => {
  const lab = createLab(t, { area: 'acl' });
  await lab.addHost('h');
  let snap: Snapshot = threePods();
  const source = { load: async () => snap, onChange: (cb: (s: Snapshot) => void) => { changed = cb; } };
  let changed: ((s: Snapshot) => void) | null = null;

  const once = await runAclCompanion({ node: 'host-b', once: true, netns: lab.ns('h') }, { source, logger: silentLogger() });
  t.same(once, { problems: [], lastError: null });
  t.match(await tableText(lab), /tern-tw-calib0000001/);

  const ac = new AbortController();
  const running = runAclCompanion({ node: 'host-a', cleanup: true, netns: lab.ns('h') }, { source, logger: silentLogger(), signal: ac.signal });
  await lab.waitFor(async () => (await tableText(lab)).includes('tern-tw-calia0000001'), { what: 'host-a table' });
  snap = threePods({ revision: 2, gnps: [gnp('only-a', { selector: "role == 'frontend'", ingress: [{ action: 'Deny' }] })] });
  changed!(snap);
  await lab.waitFor(async () => (await tableText(lab)).includes('chain tern-pi-only-a'), { what: 'update applied' });
  ac.abort();
  await running;
  t.equal(await tableText(lab), '', '--cleanup removed the table');

  const ex = await runAclExplain({ src: 'default/other', dst: '10.65.0.1', flow: 'tcp/80' }, async () => snap);
  t.equal(ex.allowed, false);
  t.equal(ex.text, [
    'default/other (10.65.0.2) -> default/frontend (10.65.0.1) tcp/80: DROPPED',
    '  egress of default/other: allowed by profile kns.default rule 1 (Allow)',
    '  ingress of default/frontend: dropped by global policy only-a (tier default) rule 1 (Deny)',
    '',
  ].join('\n'));
  const js = await runAclExplain({ src: '10.65.0.1', dst: '192.0.2.9', flow: 'udp/53', json: true }, async () => snap);
  t.match(JSON.parse(js.text), { allowed: true, ingress: null, egress: { endpoint: 'default/frontend', allowed: true } });
});
