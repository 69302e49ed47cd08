export type ConnectionStatus = 'active' | 'degraded' | 'deactivated' | 'disconnected';

export interface ConnectionView {
  status: ConnectionStatus;
  /** When the current grant was obtained (connect or reconnect). */
  grantedAt: Date;
}

export type TokenSignal =
  | { kind: 'deactivated'; reason: string; at: Date }
  | { kind: 'reauthorization_required'; reason: string; at: Date }
  | { kind: 'degraded'; at: Date }
  | { kind: 'recovered'; at: Date };

export type Transition =
  | { apply: true; status: ConnectionStatus; deactivationReason: string | null }
  | { apply: false; why: 'stale' | 'disconnected' | 'no_change' };

/**
 * How a token-service signal moves the status view. A signal about an older grant than the current one
 * (it happened before the last reconnect) is ignored, as is anything after a disconnect: the org chose that.
 */
export function applySignal(view: ConnectionView, signal: TokenSignal): Transition {
  if (view.status === 'disconnected') return { apply: false, why: 'disconnected' };
  if (signal.at < view.grantedAt) return { apply: false, why: 'stale' };
  switch (signal.kind) {
    case 'deactivated':
    case 'reauthorization_required':
      return { apply: true, status: 'deactivated', deactivationReason: signal.reason };
    case 'degraded':
      return view.status === 'active'
        ? { apply: true, status: 'degraded', deactivationReason: null }
        : { apply: false, why: 'no_change' };
    case 'recovered':
      return view.status === 'degraded'
        ? { apply: true, status: 'active', deactivationReason: null }
        : { apply: false, why: 'no_change' };
  }
}
