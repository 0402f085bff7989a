// Settings: the one module that reads tern's environment, and the registry of every flag and
// variable (name, calico-node name, type, default, documentation line).
//
// Invariants
// - No module outside this folder reads process.env (a test checks it); commands resolve
//   their flags here and hand plain values inward.
// - An empty variable counts as unset, for every variable.
// - docs/operations.md documents every entry of SETTINGS (a test checks it).
//
// Leaf module: imports only node:os and src/util/errors.
export { SETTINGS, envValue, type EnvName, type Env, type Setting, type SettingType } from './registry.js';
export {
  logSettings, resolveDatastoreSpec, resolveEndpointToHostAction, resolveFailsafePorts, resolveNodeName, resolveSecretsDir, resolveSocket,
} from './resolve.js';
