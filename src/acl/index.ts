// The ACL companion: Calico/Felix network policy for this node's workloads, rendered into
// nftables. Design and the nftables-vs-iptables argument: docs/acl.md.
//
//   Snapshot ──model.ts──► AclModel (entities.ts: labels, member sets; tiers and ordered
//            (buildModel)             policies per endpoint and direction; policy-compile.ts:
//                                     one policy's selection and rules; incremental.ts
//                                     keeps what a change does not touch between builds)
//            ──render.ts─► DesiredTable ──script.ts──► `nft -f` script (pure, snapshot-tested)
//              (render-rules.ts: one Calico rule → nft rule text)
//            ──diff.ts───► incremental transaction (changed chains and elements only)
//            ──nft.ts────► kernel: one transaction, read back what was written, periodic
//                          resync repairs drift (live.ts: the live table, streamed) (the only I/O)
//   model.ts reads the Snapshot's policy kinds as typed values (src/model policyModel:
//   rules, selectors, nets, ports, endpoints parsed once at the edge).
//   companion.ts ties them to datastore updates; explain.ts evaluates the same model in
//   process (`tern acl explain`) and is the pure tests' evaluator; cli.ts holds the commands.
//
// Invariants
// - tern writes only table `inet tern`; it never reads, flushes or reorders anything else.
//   Its forward-hook base chains run at priority filter+10/+11, after an operator's FORWARD
//   chains at priority filter (iptables-nft `ip filter FORWARD` included). In nftables a drop
//   anywhere is final, and an accept here does not stop other tables from dropping.
// - Felix semantics per direction: tiers by order, inside a tier policies by ascending order
//   (none = last, ties by the tier-prefixed Felix name); Log continues, Allow/Deny end, Pass
//   goes to the next tier; a tier whose policies select the endpoint but none allows ends in
//   its defaultAction (Deny: drop; Pass: next tier); profiles apply when no tier applies or
//   the last one passed; no policy and no profile = isolated. Established/related traffic is
//   accepted first. Workload-to-host: egress policy, then DefaultEndpointToHostAction.
// - Only endpoints whose spec.node is this node get chains; selector sets hold the
//   addresses of matching endpoints cluster-wide.
// - Invalid policies (which Calico would refuse) and fields tern cannot honour (rule
//   `services`, named ports in notPorts) are fail-closed: their rules become Deny, reported.
// - The packet-mark bit 0x20000 (Felix's pass bit) is used only in policy groups with a Pass
//   rule, and cleared before any verdict that can follow it.
// - Host endpoints of this node (hostendpoints.ts, render-host.ts, explain-host.ts): Felix's
//   stages doNotTrack (raw) → preDNAT (prerouting before DNAT) → normal (input/output) or
//   applyOnForward (forward); failsafe ports first; no policy and no profile = deny except
//   failsafe. A HostEndpoint without interfaceName polices the interfaces holding its
//   expectedIPs (interfaces.ts reads them; when it cannot, the endpoint is reported).
//
// Async model: AclCompanion runs one nft operation at a time; update() records the snapshot,
// the model and table are built in ≤ 4 ms slices, updates coalesce. No RFCs apply.
export { AclCompanion, type AclCompanionOptions, type AclStatus } from './companion.js';
export { buildModel, buildModelAsync, type AclModel, type AclEndpoint, type AclPolicy, type AclProblem } from './model.js';
export { renderTable, tableScript, elementDiffScript, DEFAULT_RENDER, type DesiredTable, type RenderOptions, type EndpointToHostAction } from './render.js';
export { incrementalScript } from './diff.js';
export { NftCommand, NftTable, AclError, type NftRunner, type ApplyMode } from './nft.js';
export { explain, explainFlow, parseFlow, evaluateDirection, type ExplainResult, type DirectionResult, type Flow } from './explain.js';
export { runAclCompanion, runAclExplain, type AclRunArgs, type AclRunDeps, type AclExplainArgs, type AclSource } from './cli.js';
export { RuleError } from './rules.js';
export { parseFailsafe, failsafeOptions, FAILSAFE_INBOUND, FAILSAFE_OUTBOUND, type AclHostEndpoint, type FailsafePort, type HostStage } from './hostendpoints.js';
export { evaluateHostEndpoint, type HostPath } from './explain-host.js';
