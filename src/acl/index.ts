// The ACL companion: Calico/Felix network policy for this node's workloads, rendered into
// nftables. Design and the nftables-vs-iptables argument: docs/acl.md.
//
//   Snapshot ──model.ts──► AclModel (labels, ordered policies per endpoint and direction,
//            (buildModel)             selector member sets)
//            ──render.ts─► DesiredTable ──► `nft -f` script            (pure, snapshot-tested)
//            ──nft.ts────► kernel: one transaction (whole-table replace, or set elements only),
//                          read back, periodic resync repairs drift   (the only I/O)
//   companion.ts ties them to datastore updates; explain.ts evaluates the same model in
//   process (`tern acl explain`) and is the pure tests' evaluator; cli.ts holds the commands.
//
// Invariants
// - tern writes only table `inet tern`; it never reads, flushes or reorders anything else.
//   Its forward-hook base chains run at priority filter+10/+11, after an operator's FORWARD
//   chains at priority filter (iptables-nft `ip filter FORWARD` included). In nftables a drop
//   anywhere is final, and an accept here does not stop other tables from dropping.
// - Felix semantics per direction: policies by ascending order (none = last, ties by name),
//   Log continues, Allow/Deny end, Pass skips to the profiles; a packet no selecting policy
//   allows is dropped; profiles apply when no policy selects the endpoint (or after Pass);
//   no policy and no profile = isolated. Established/related traffic is accepted first.
// - Only endpoints whose spec.node is this node get chains; selector sets hold the
//   addresses of matching endpoints cluster-wide.
// - Invalid policies (which Calico would refuse) are fail-closed: their rules become Deny.
// - The packet-mark bit 0x20000 (Felix's pass bit) is used only around policies with a Pass
//   rule, and cleared before any verdict that can follow it.
// - Not implemented: tiers other than one default tier, named ports, serviceAccounts,
//   host endpoints, preDNAT/doNotTrack/applyOnForward, workload-to-host (INPUT) policy.
//
// Async model: AclCompanion runs one nft operation at a time; update() is synchronous
// (model + render) and coalesces while an apply runs. No RFCs apply.
export { AclCompanion, type AclCompanionOptions, type AclStatus } from './companion.js';
export { buildModel, type AclModel, type AclEndpoint, type AclPolicy, type AclProblem } from './model.js';
export { renderTable, tableScript, elementDiffScript, DEFAULT_RENDER, type DesiredTable, type RenderOptions } from './render.js';
export { NftCommand, NftTable, AclError, type NftRunner, type ApplyMode } from './nft.js';
export { explain, explainFlow, parseFlow, evaluateDirection, type ExplainResult, type DirectionResult, type Flow } from './explain.js';
export { runAclCompanion, runAclExplain, type AclRunArgs, type AclRunDeps, type AclExplainArgs, type AclSource } from './cli.js';
export { RuleError } from './rules.js';
