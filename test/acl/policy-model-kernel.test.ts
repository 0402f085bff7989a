// The randomized policy comparison (policy-model.test.ts) at the kernel level: for a few
// seeds, the random snapshot's endpoints become pods of one host namespace (wired like
// Calico's CNI), the table render.ts writes for that node is loaded with `nft -f`, and real
// packets (TCP SYN, UDP with an echo reply, ICMP echo; IPv4 and IPv6) go between the pods.
// Delivered-or-dropped must be what the Felix reference (fixtures/felix-reference.ts)
// predicts, and what explain() says. Each seed gets fresh pods with their own addresses
// (10.<70+i>.*), so no conntrack entry of an earlier seed can decide a later flow.
// Namespaces are `tn-aclpm-<random>-*`, created here and removed in teardown.
import t from 'tap';
import { buildModel } from '../../src/acl/model.js';
import { explainFlow } from '../../src/acl/explain.js';
import { renderTable, tableScript } from '../../src/acl/render.js';
import { createLab, type Lab } from '../../lab/netns.js';
import { world, type EpDef } from './fixtures/felix-reference.js';
import { partyVerdict } from './fixtures/felix-reference-host.js';
import { DST_PORTS, flowText, gen, randFlow, scenario, toSnapshot, type FlowCase } from './fixtures/policy-gen.js';
import { flowOf } from './fixtures/policy-compare.js';

const SEEDS = (process.env.TERN_POLICY_KERNEL_SEEDS ?? '11,60,146,220').split(',').map(Number);
const FLOWS = 12;
const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };

/** TCP servers (dual stack) and UDP echo servers on every destination port of the generator. */
const SERVER = "const net=require('net'),dgram=require('dgram');let n=0;const up=()=>{if(++n===3*process.argv.length-3)console.log('ready')};" +
  "for(const p of process.argv.slice(1)){net.createServer((s)=>s.destroy()).listen({port:+p,host:'::',ipv6Only:false},up);" +
  "for(const f of ['udp4','udp6']){const u=dgram.createSocket(f==='udp6'?{type:f,ipv6Only:true}:{type:f});u.on('message',(m,r)=>u.send('y',r.port,r.address));u.bind(+p,up)}}";
/** Runs every probe of argv[1] at once; prints one result per probe: ok, timeout or error <code>. */
const PROBE = "const net=require('net'),dgram=require('dgram'),cp=require('child_process');const T=1500;" +
  "const one=(p)=>new Promise((res)=>{" +
  "if(p.k==='icmp'){cp.execFile('ping',['-c','1','-W','1',p.dst],(e,o)=>res(/ 1 received/.test(String(o))?'ok':'timeout'));return}" +
  "if(p.k==='tcp'){const s=net.connect({host:p.dst,port:p.dport,localPort:p.sport});const t=setTimeout(()=>{s.destroy();res('timeout')},T);" +
  "s.on('connect',()=>{clearTimeout(t);s.destroy();res('ok')});s.on('error',(e)=>{clearTimeout(t);res('error '+e.code)});return}" +
  "const s=dgram.createSocket(p.v6?'udp6':'udp4');const t=setTimeout(()=>{s.close();res('timeout')},T);" +
  "s.on('message',()=>{clearTimeout(t);s.close();res('ok')});s.on('error',(e)=>{clearTimeout(t);res('error '+e.code)});" +
  "s.bind(p.sport,()=>s.send('x',p.dport,p.dst))});" +
  "Promise.all(JSON.parse(process.argv[1]).map(one)).then((r)=>console.log(JSON.stringify(r)));";

interface Probe { k: 'tcp' | 'udp' | 'icmp'; dst: string; dport?: number; sport?: number; v6: boolean }

function probeOf(f: FlowCase): Probe {
  const p = f.pkt;
  const k = p.proto === 6 ? 'tcp' : p.proto === 17 ? 'udp' : 'icmp';
  return { k, dst: p.dst, v6: p.family === 6, ...(k === 'icmp' ? {} : { dport: p.dstPort!, sport: p.srcPort! }) };
}

/** Flows the kernel can send, at most one per (source, protocol, source port) so sockets never share a port. */
function kernelFlows(seed: number, scn: ReturnType<typeof scenario>): FlowCase[] {
  const g = gen(seed * 31);
  const out: FlowCase[] = [];
  const used = new Set<string>();
  for (let i = 0; i < FLOWS * 4 && out.length < FLOWS; i++) {
    const f = randFlow(g, scn, { kernel: true });
    const key = `${f.src.name} ${f.pkt.proto} ${f.pkt.srcPort ?? `${f.pkt.dst}`}`;
    if (used.has(key)) continue;
    used.add(key);
    out.push(f);
  }
  return out;
}

async function wirePods(lab: Lab, i: number, eps: readonly EpDef[]): Promise<Map<string, string>> {
  const ifaces = new Map<string, string>();
  for (const ep of eps) {
    const pod = await lab.addPod('h', `s${i}${ep.name}`, ep.v4, ep.v6 ? { ip6: ep.v6 } : {});
    ifaces.set(ep.name, pod.hostIf);
    const srv = lab.spawn(`s${i}${ep.name}`, 'node', ['-e', SERVER, ...DST_PORTS.map(String)], { env: PLAIN_ENV });
    await lab.waitFor(() => srv.log().includes('ready'), { what: `servers in ${ep.name}` });
  }
  return ifaces;
}

t.test('random policies: the kernel delivers what the Felix reference predicts', async (t) => {
  const lab = createLab(t, { area: 'aclpm' });
  await lab.addHost('h');
  let delivered = 0;
  let dropped = 0;
  for (const [i, seed] of SEEDS.entries()) {
    const scn = scenario(seed, { allLocal: true, net: 70 + i });
    const ifaces = await wirePods(lab, i, scn.endpoints);
    const snap = toSnapshot(scn, ifaces);
    const model = buildModel(snap, 'n1');
    t.same(model.problems, [], `seed ${seed}: a valid snapshot`);
    await lab.exec('h', 'nft', ['-f', '-'], { input: tableScript(renderTable(model)) });
    const flows = kernelFlows(seed, scn);
    const w = world(scn);
    const bySrc = new Map<string, FlowCase[]>();
    for (const f of flows) bySrc.set(f.src.name, [...(bySrc.get(f.src.name) ?? []), f]);
    const results = new Map<FlowCase, string>();
    await Promise.all([...bySrc].map(async ([src, fs]) => {
      const r = await lab.exec(`s${i}${src}`, 'node', ['-e', PROBE, JSON.stringify(fs.map(probeOf))], { env: PLAIN_ENV, timeoutMs: 20_000 });
      const out = JSON.parse(r.stdout.trim()) as string[];
      fs.forEach((f, j) => results.set(f, out[j]!));
    }));
    for (const f of flows) {
      const ref = partyVerdict(w, f.src, f.dst, f.pkt);
      const ex = explainFlow(model, f.pkt.src, f.pkt.dst, flowOf(f.pkt));
      const seen = results.get(f)!;
      const what = `seed ${seed}: ${flowText(f)}: reference ${ref.allowed ? 'ALLOWED' : 'DROPPED'} (egress: ${ref.egress}; ingress: ${ref.ingress ?? 'not reached'})`;
      t.notMatch(seen, /^error/, `${what}: the probe ran (${seen})`);
      t.equal(seen === 'ok', ref.allowed, `kernel: ${what}`);
      t.equal(ex.allowed, ref.allowed, `explain: ${ex.text}`);
      if (seen === 'ok') delivered++; else dropped++;
    }
  }
  t.ok(delivered > 0 && dropped > 0, `the sample has both verdicts (${delivered} delivered, ${dropped} dropped)`);
});
