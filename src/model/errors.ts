// The typed refusal of a resource or one of its fields: a ConfigError (stable code
// ERR_CONFIG_INVALID) that also carries kind, resource, field and reason as properties.
import { ConfigError } from '../util/errors.js';

export class ModelError extends ConfigError {
  constructor(
    readonly kind: string,
    readonly resource: string,
    readonly field: string,
    readonly reason: string,
    /** BlockAffinity: the node the affinity names, so only that node reports it. */
    readonly node?: string,
  ) {
    super(`${kind} ${resource}: ${field}: ${reason}`, { kind, resource, field, reason });
  }
}
