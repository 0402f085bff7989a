// The one error type the wire codec throws. It already knows the NOTIFICATION it maps to
// and its RFC 7606 action, so the session catches it in one place and either downgrades
// (attribute discard, treat-as-withdraw) or sends the NOTIFICATION and closes.

/**
 * RFC 7606 §2 error-handling approaches, weakest first. When several errors occur in one
 * UPDATE, the strongest one decides (§3 (h)).
 */
export const ErrorAction = {
  /** Drop the malformed attribute, keep the route. */
  Discard: 'discard',
  /** Treat every NLRI in the UPDATE as withdrawn. */
  Withdraw: 'withdraw',
  /** Disable the AFI/SAFI (RFC 4760 §7); tern resets the session in its place. */
  AfiSafiDisable: 'afiSafiDisable',
  /** Send NOTIFICATION, close the session. */
  Reset: 'reset',
} as const;
export type ErrorAction = (typeof ErrorAction)[keyof typeof ErrorAction];

const STRENGTH: Record<ErrorAction, number> = { discard: 0, withdraw: 1, afiSafiDisable: 2, reset: 3 };

export function strongerAction(a: ErrorAction, b: ErrorAction): ErrorAction {
  return STRENGTH[a] >= STRENGTH[b] ? a : b;
}

export class BgpWireError extends Error {
  override readonly name = 'BgpWireError';
  constructor(
    /** NOTIFICATION error code (NotifCode). */
    readonly code: number,
    /** NOTIFICATION error subcode. */
    readonly subcode: number,
    message: string,
    /** NOTIFICATION data field (e.g. the offending attribute, RFC 4271 §6.3). */
    readonly data: Buffer = Buffer.alloc(0),
    readonly action: ErrorAction = ErrorAction.Reset,
    /**
     * RFC 7606 §5.3: some NLRI of the message could not be located, so the routes the peer
     * sent on this session cannot be trusted: the reset also flushes them (no graceful restart).
     */
    readonly flushRoutes = false,
  ) {
    super(message);
  }

  /** The same error with another action (e.g. an attribute error escalated to a reset). */
  withAction(action: ErrorAction): BgpWireError {
    return new BgpWireError(this.code, this.subcode, this.message, this.data, action, this.flushRoutes);
  }
}

export function isBgpWireError(err: unknown): err is BgpWireError {
  return err instanceof BgpWireError;
}
