// etcd inside a lab namespace: lives in lab/etcd.ts (shared with the demo); re-exported for tests.
export * from '../../lab/etcd.js';
