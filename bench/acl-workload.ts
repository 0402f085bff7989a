// The ACL bench workloads (bench/acl.ts): Calico resources for one node "bench-node" —
//   realistic: 900 NetworkPolicies in 20 namespaces + 100 GlobalNetworkPolicies, 1 000
//              endpoints (200 on this node), 3 rules per policy;
//   worst:     1 000 GlobalNetworkPolicies selecting all(), 200 local endpoints;
// and the changes the bench times: one changed rule, a new local pod, a relabelled local pod.
import { API_VERSION, type Resource } from '../src/model/types.js';

export const NODE = 'bench-node';

function wep(i: number, ns: string, app: string, local = i < 200): Resource {
  return {
    apiVersion: API_VERSION, kind: 'WorkloadEndpoint',
    metadata: { name: `pod-${i}`, namespace: ns, labels: { app, idx: String(i) } },
    spec: {
      node: local ? NODE : `node-${i % 50}`, orchestrator: 'k8s', interfaceName: `cali${i.toString(16).padStart(11, '0')}`,
      ipNetworks: [`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`], profiles: [`kns.${ns}`],
    },
  } as Resource;
}

export function workload(kind: 'realistic' | 'worst', extra: { changedPort?: number; newPod?: boolean; relabel?: boolean } = {}): Resource[] {
  const out: Resource[] = [];
  const nss = Array.from({ length: 20 }, (_, i) => `ns${i}`);
  for (const ns of nss) out.push({ apiVersion: API_VERSION, kind: 'Profile', metadata: { name: `kns.${ns}` }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.projectcalico.org/name': ns } } } as Resource);
  for (let i = 0; i < 1000; i++) {
    // The relabel moves local pod 199 (ns19) from app49 to app9: other policies select it,
    // and the rule sets naming app49/app9 change members.
    const app = extra.relabel && i === 199 ? 'app9' : `app${i % 50}`;
    out.push(wep(i, nss[i % 20]!, app));
  }
  if (extra.newPod) out.push(wep(1000, 'ns0', 'app0', true));
  if (kind === 'realistic') {
    for (let i = 0; i < 900; i++) {
      const port = i === 0 && extra.changedPort ? extra.changedPort : 8000 + (i % 100);
      out.push({
        apiVersion: API_VERSION, kind: 'NetworkPolicy', metadata: { name: `np-${i}`, namespace: nss[i % 20]! },
        spec: {
          order: 100 + (i % 10), selector: `app == 'app${i % 50}'`, types: ['Ingress', 'Egress'],
          ingress: [
            { action: 'Allow', protocol: 'TCP', source: { selector: `app == 'app${(i + 1) % 50}'` }, destination: { ports: [port] } },
            { action: 'Allow', protocol: 'UDP', source: { nets: [`172.16.${i % 256}.0/24`] }, destination: { ports: [53] } },
          ],
          egress: [{ action: 'Allow', destination: { selector: `app == 'app${(i + 2) % 50}'` } }],
        },
      } as Resource);
    }
    for (let i = 0; i < 100; i++) {
      out.push({
        apiVersion: API_VERSION, kind: 'GlobalNetworkPolicy', metadata: { name: `gnp-${i}` },
        spec: {
          order: 10 + i, selector: `app == 'app${i % 50}' || has(idx)`, types: ['Ingress'],
          ingress: [{ action: 'Deny', source: { nets: [`192.0.2.${i}/32`] } }, { action: 'Log', protocol: 'TCP', destination: { ports: [22] } }, { action: 'Pass', source: { selector: `app == 'app${i % 7}'` } }],
        },
      } as Resource);
    }
  } else {
    for (let i = 0; i < 1000; i++) {
      const port = i === 0 && extra.changedPort ? extra.changedPort : 10000 + i;
      out.push({
        apiVersion: API_VERSION, kind: 'GlobalNetworkPolicy', metadata: { name: `all-${i}` },
        spec: { order: i, selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `app == 'app${i % 50}'` }, destination: { ports: [port] } }] },
      } as Resource);
    }
  }
  return out;
}

