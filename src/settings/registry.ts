// The registry of tern's settings: every environment variable and every command-line flag,
// with its calico-node name, type, default and the line of documentation docs/operations.md
// carries for it. test/settings/registry.test.ts checks the two against each other, and
// that no module outside src/settings reads process.env.

export type SettingType = 'string' | 'path' | 'address' | 'seconds' | 'boolean' | 'level' | 'host:port' | 'urls';

export interface Setting {
  /** Environment variable, when the setting has one (calico-node's name where it exists). */
  readonly env?: string;
  /** Command-line flag, when the setting has one. */
  readonly flag?: string;
  /** The commands that take it. */
  readonly commands: readonly string[];
  readonly type: SettingType;
  /** Default when neither flag nor variable is given (text, as documented). */
  readonly default?: string;
  /** True when calico-node reads a variable of the same name with the same meaning. */
  readonly calico: boolean;
  readonly doc: string;
}

const DATASTORE_COMMANDS = ['daemon', 'apply', 'get', 'delete', 'acl', 'acl explain'] as const;
const SOCKET_COMMANDS = ['daemon', 'status', 'routes', 'metrics', 'health'] as const;

export const SETTINGS = [
  { flag: '--datastore', env: 'TERN_DATASTORE', commands: DATASTORE_COMMANDS, type: 'string', calico: false,
    doc: '"file:PATH" or "etcd:URL[,URL...]"; a bare http(s) URL means etcd' },
  { env: 'DATASTORE_TYPE', commands: DATASTORE_COMMANDS, type: 'string', calico: true,
    doc: '"etcdv3" (with ETCD_ENDPOINTS) or "file" (with TERN_DATASTORE_FILE); "kubernetes" is refused' },
  { env: 'ETCD_ENDPOINTS', commands: DATASTORE_COMMANDS, type: 'urls', calico: true,
    doc: 'etcd endpoints, comma-separated, when DATASTORE_TYPE=etcdv3 (or unset)' },
  { env: 'TERN_DATASTORE_FILE', commands: DATASTORE_COMMANDS, type: 'path', calico: false,
    doc: 'the YAML file when DATASTORE_TYPE=file' },
  { env: 'ETCD_CA_CERT_FILE', commands: DATASTORE_COMMANDS, type: 'path', calico: true, doc: 'CA bundle for https:// etcd endpoints' },
  { env: 'ETCD_CERT_FILE', commands: DATASTORE_COMMANDS, type: 'path', calico: true, doc: 'client certificate for etcd' },
  { env: 'ETCD_KEY_FILE', commands: DATASTORE_COMMANDS, type: 'path', calico: true, doc: 'client key for etcd' },
  { env: 'ETCD_USERNAME', commands: DATASTORE_COMMANDS, type: 'string', calico: true, doc: 'etcd user (with ETCD_PASSWORD)' },
  { env: 'ETCD_PASSWORD', commands: DATASTORE_COMMANDS, type: 'string', calico: true, doc: 'etcd password; never logged' },
  { flag: '--node', env: 'NODENAME', commands: ['daemon', 'acl'], type: 'string', default: 'HOSTNAME, else the host name', calico: true,
    doc: 'this node\'s Node resource' },
  { env: 'HOSTNAME', commands: ['daemon', 'acl'], type: 'string', calico: true, doc: 'the node name when neither --node nor NODENAME is given' },
  { flag: '--ip', env: 'IP', commands: ['daemon'], type: 'address', calico: true,
    doc: 'IPv4 address: ADDR/LEN; a bare ADDR takes the length of the interface holding it; "autodetect" detects on every start and updates the Node; "none" detects nothing (a stored address stays); unset: the stored address, else detection (the flag wins over the variable)' },
  { flag: '--ip6', env: 'IP6', commands: ['daemon'], type: 'address', calico: true,
    doc: 'IPv6 address, as IP; unset: only a stored address (IPv6 off otherwise), as calico-node' },
  { env: 'IP_AUTODETECTION_METHOD', commands: ['daemon'], type: 'string', default: 'first-found', calico: true,
    doc: 'first-found (calico-node\'s default interface exclusions), interface=RE[,RE...] (only these, no default exclusions), skip-interface=RE[,RE...] (defaults plus these), cidr=CIDR[,CIDR...], can-reach=DEST (the kernel\'s source address toward DEST); kubernetes-internal-ip is refused' },
  { env: 'IP6_AUTODETECTION_METHOD', commands: ['daemon'], type: 'string', default: 'first-found', calico: true, doc: 'the same for IPv6' },
  { env: 'CALICO_ROUTER_ID', commands: ['daemon'], type: 'string', calico: true,
    doc: 'BGP identifier: an IPv4 address, or "hash" (SHA-256 of the node name, as confd\'s hashToIPv4) for IPv6-only nodes; default: the node\'s IPv4 address' },
  { env: 'AS', commands: ['daemon'], type: 'string', calico: true,
    doc: 'this node\'s AS number (plain or dotted A.B), stored on the Node as spec.bgp.asNumber' },
  { env: 'BGP_LOGSEVERITYSCREEN', commands: ['daemon'], type: 'level', calico: true,
    doc: 'log level (debug, info, warning, error), before the Node\'s and the global logSeverityScreen' },
  { flag: '--socket', env: 'TERN_SOCKET', commands: SOCKET_COMMANDS, type: 'path', default: '/var/run/tern/tern.sock', calico: false,
    doc: 'control socket for the daemon and the CLI commands (calico-node: /var/run/calico/bird.ctl)' },
  { flag: '--no-fib', commands: ['daemon'], type: 'boolean', default: 'false', calico: false,
    doc: 'never read or write the kernel\'s routes (a dedicated route reflector)' },
  { flag: '--acl', commands: ['daemon'], type: 'boolean', default: 'false', calico: false,
    doc: 'also run the ACL companion (nftables) for this node\'s endpoints' },
  { flag: '--log-level', commands: ['daemon', 'acl'], type: 'level', calico: false,
    doc: 'error | warn | info | debug; fixes the daemon\'s level, otherwise BGP_LOGSEVERITYSCREEN, then BGPConfiguration logSeverityScreen decides' },
  { env: 'TERN_LOG_LEVEL', commands: ['daemon', 'acl'], type: 'level', default: 'info', calico: false,
    doc: 'the level before the first BGPConfiguration is read, when --log-level is not given' },
  { env: 'TERN_LOG_FORMAT', commands: ['daemon', 'acl'], type: 'string', default: 'text', calico: false,
    doc: '"json" for winston JSON lines on stderr' },
  { flag: '--stale-time', commands: ['daemon'], type: 'seconds', default: '120', calico: false,
    doc: 'restart adoption: how long kernel routes from a previous run wait for peers' },
  { flag: '--selection-deferral-time', commands: ['daemon'], type: 'seconds', default: '240', calico: false,
    doc: 'after a restart, the longest wait for peers\' End-of-RIB before tern advertises anything (RFC 4724 §4.1 Selection_Deferral_Timer)' },
  { flag: '--metrics-listen', commands: ['daemon'], type: 'host:port', calico: false,
    doc: 'Prometheus /metrics and the probes /livez, /readyz over HTTP (metrics always available as `tern metrics`)' },
  { env: 'CALICO_ADVERTISE_CLUSTER_IPS', commands: ['daemon'], type: 'string', calico: true,
    doc: 'replaces BGPConfiguration serviceClusterIPs (one CIDR, or several comma-separated)' },
  { env: 'CALICO_ENDPOINT_STATUS_PATH_PREFIX', commands: ['daemon'], type: 'path', default: '/var/run/calico', calico: true,
    doc: 'where Felix\'s endpoint-status/ directory is: workloads for localWorkloadSelector peers' },
  { env: 'TERN_ENDPOINT_STATUS_POLL_MS', commands: ['daemon'], type: 'string', default: '30000', calico: false,
    doc: 'milliseconds between reads of the endpoint-status directory (confd\'s 30 s)' },
  { flag: '--secrets-dir', env: 'TERN_SECRETS_DIR', commands: ['daemon'], type: 'path', calico: false,
    doc: 'BGP passwords laid out as a mounted Kubernetes Secret volume: DIR/<secret name>/<key>' },
  { flag: '--cleanup', commands: ['acl'], type: 'boolean', default: 'false', calico: false,
    doc: 'remove tern\'s nftables table on exit (default: keep it, as Felix does)' },
  { flag: '--once', commands: ['acl'], type: 'boolean', default: 'false', calico: false,
    doc: 'apply once and exit (non-zero when a resource is not honoured or the apply failed)' },
  { flag: '--endpoint-to-host-action', env: 'FELIX_DEFAULTENDPOINTTOHOSTACTION', commands: ['acl', 'daemon --acl'], type: 'string', default: 'Drop', calico: true,
    doc: 'Drop \| Accept \| Return: Felix\'s DefaultEndpointToHostAction, for workload-to-host traffic after the workload\'s egress policy (the daemon reads only the variable)' },
  { flag: '--failsafe-inbound-host-ports', env: 'FELIX_FAILSAFEINBOUNDHOSTPORTS', commands: ['acl', 'daemon --acl'], type: 'string',
    default: 'tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667', calico: true,
    doc: 'Felix\'s FailsafeInboundHostPorts: PROTOCOL:PORT list (or `none`) open to this host whatever host endpoint policy says (the daemon reads only the variable)' },
  { flag: '--failsafe-outbound-host-ports', env: 'FELIX_FAILSAFEOUTBOUNDHOSTPORTS', commands: ['acl', 'daemon --acl'], type: 'string',
    default: 'udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667', calico: true,
    doc: 'Felix\'s FailsafeOutboundHostPorts: PROTOCOL:PORT list (or `none`) this host may always reach (the daemon reads only the variable)' },
  { flag: '--resync', commands: ['acl'], type: 'seconds', default: '10', calico: false, doc: 'seconds between checks of the live table' },
  { flag: '--live', commands: ['health'], type: 'boolean', calico: false, doc: 'the daemon answers within the timeout and its BGP listener is open (calico-node -bird-live)' },
  { flag: '--ready', commands: ['health'], type: 'boolean', calico: false,
    doc: 'BGP running, first snapshot applied, every configured peer Established, not in restart recovery (calico-node -bird-ready)' },
  { flag: '--timeout', commands: ['health'], type: 'seconds', default: '5', calico: false, doc: 'how long to wait for the daemon\'s answer' },
  { flag: '--json', commands: ['status', 'routes', 'acl explain'], type: 'boolean', default: 'false', calico: false, doc: 'print JSON' },
  { flag: '--wide', commands: ['status'], type: 'boolean', default: 'false', calico: false, doc: 'add RR CLIENT, RECEIVED and ADVERTISED columns' },
  { flag: '--filename', commands: ['apply'], type: 'path', calico: false, doc: 'file to read ("-" for stdin), also -f' },
  { flag: '--output', commands: ['get'], type: 'string', default: 'yaml', calico: false, doc: 'yaml | json, also -o' },
  { flag: '--namespace', commands: ['get', 'delete'], type: 'string', calico: false, doc: 'namespace for namespaced kinds, also -n' },
] as const satisfies readonly Setting[];

export type EnvName = Extract<(typeof SETTINGS)[number], { env: string }>['env'];

/** The environment the settings are read from; tests and embedders pass their own. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The value of a registered environment variable ('' counts as unset). */
export function envValue(name: EnvName, env: Env = process.env): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}
