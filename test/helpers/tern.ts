// The real tern daemon in a lab host: lives in lab/tern.ts (shared with the demo); re-exported for tests.
export * from '../../lab/tern.js';
