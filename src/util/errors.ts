// Typed, non-wire errors with stable codes (docs/errors.md lists them). Match on `code`,
// never on the message text.

export class DaemonError extends Error {
  override readonly name: string = 'DaemonError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Invalid configuration or resource; names the file, document, field and reason. */
export class ConfigError extends DaemonError {
  override readonly name = 'ConfigError';
  constructor(message: string, details: { file?: string; document?: number; kind?: string; resource?: string; field?: string; reason?: string } = {}) {
    super('ERR_CONFIG_INVALID', message, details);
  }
}

/** A netlink request the kernel refused. */
export class KernelError extends DaemonError {
  override readonly name = 'KernelError';
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

/** The datastore could not be reached or answered an error. */
export class DatastoreError extends DaemonError {
  override readonly name = 'DatastoreError';
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
