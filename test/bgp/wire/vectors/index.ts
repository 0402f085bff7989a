// Every valid vector, for the decode, framing, round-trip and fuzz tests.
import { miscVectors } from './misc.js';
import { openVectors } from './open.js';
import { updateVectors } from './update.js';
import type { Vector } from './types.js';

export type { Vector } from './types.js';
export { FOUR, TWO } from './types.js';
export const allVectors: Vector[] = [...openVectors, ...updateVectors, ...miscVectors];
