/**
 * The signal lifecycle (XState v5, built with setup()): one actor per signal.
 *
 * received → validated → guarded → blocked
 *                                 → approved → submitted → (partially_filled →) filled → open → exiting → closed
 * plus rejected (venue said no), expired (not filled / not acted on in time), failed (invalid).
 *
 * Actions are named and synchronous; I/O happens outside, in the kernel, which sends the events.
 */
import { assign, setup } from 'xstate';

export const TERMINAL_STATES = ['blocked', 'closed', 'rejected', 'expired', 'failed'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];
export const LIFECYCLE_STATES = [
  'received',
  'validated',
  'guarded',
  'approved',
  'submitted',
  'submit_unknown',
  'partially_filled',
  'filled',
  'open',
  'exiting',
  ...TERMINAL_STATES,
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export type SignalEvent =
  | { type: 'VALIDATE' }
  | { type: 'INVALID'; reason: string }
  | { type: 'GUARD'; approved: boolean; blockedBy: readonly string[] }
  | { type: 'APPROVE' }
  | { type: 'BLOCK' }
  | { type: 'SUBMIT'; clientOrderId: string }
  | { type: 'REJECT'; reason: string }
  /** the submit's outcome is unknown (timeout, 5xx, dropped response): the order is being looked up */
  | { type: 'SUBMIT_UNKNOWN'; reason: string }
  /** the lookup found the order on the venue, or found it nowhere and it was sent again */
  | { type: 'RESOLVED'; how: 'found' | 'resent' }
  | { type: 'PARTIAL_FILL'; quantity: string }
  | { type: 'FILL'; quantity: string }
  | { type: 'OPEN' }
  | { type: 'EXIT'; reason: string; clientOrderId: string }
  | { type: 'CLOSE' }
  | { type: 'EXPIRE'; reason: string };
export type SignalEventType = SignalEvent['type'];
export const SIGNAL_EVENT_TYPES: readonly SignalEventType[] = [
  'VALIDATE', 'INVALID', 'GUARD', 'APPROVE', 'BLOCK', 'SUBMIT', 'REJECT', 'SUBMIT_UNKNOWN', 'RESOLVED', 'PARTIAL_FILL', 'FILL', 'OPEN', 'EXIT', 'CLOSE', 'EXPIRE',
];

export interface SignalContext {
  readonly signalId: string;
  approved: boolean | null;
  blockedBy: readonly string[];
  clientOrderId: string | null;
  exitOrderId: string | null;
  filledQuantity: string;
  reason: string | null;
  exitReason: string | null;
}

export const signalMachine = setup({
  types: {
    context: {} as SignalContext,
    events: {} as SignalEvent,
    input: {} as { signalId: string },
  },
  actions: {
    recordReason: assign(({ event }) => ('reason' in event ? { reason: event.reason } : {})),
    recordVerdict: assign(({ event }) => (event.type === 'GUARD' ? { approved: event.approved, blockedBy: event.blockedBy } : {})),
    recordOrder: assign(({ event }) => (event.type === 'SUBMIT' ? { clientOrderId: event.clientOrderId } : {})),
    recordFill: assign(({ event }) => (event.type === 'PARTIAL_FILL' || event.type === 'FILL' ? { filledQuantity: event.quantity } : {})),
    recordExit: assign(({ event }) => (event.type === 'EXIT' ? { exitReason: event.reason, exitOrderId: event.clientOrderId } : {})),
  },
  guards: {
    verdictApproved: ({ context }) => context.approved === true,
    verdictBlocked: ({ context }) => context.approved === false,
  },
}).createMachine({
  id: 'signal',
  initial: 'received',
  context: ({ input }) => ({
    signalId: input.signalId,
    approved: null,
    blockedBy: [],
    clientOrderId: null,
    exitOrderId: null,
    filledQuantity: '0',
    reason: null,
    exitReason: null,
  }),
  states: {
    received: {
      on: {
        VALIDATE: 'validated',
        INVALID: { target: 'failed', actions: 'recordReason' },
        EXPIRE: { target: 'expired', actions: 'recordReason' },
      },
    },
    validated: {
      on: {
        GUARD: { target: 'guarded', actions: 'recordVerdict' },
        INVALID: { target: 'failed', actions: 'recordReason' },
        EXPIRE: { target: 'expired', actions: 'recordReason' },
      },
    },
    guarded: {
      on: {
        APPROVE: { target: 'approved', guard: 'verdictApproved' },
        BLOCK: { target: 'blocked', guard: 'verdictBlocked' },
        EXPIRE: { target: 'expired', actions: 'recordReason' },
      },
    },
    approved: {
      on: {
        SUBMIT: { target: 'submitted', actions: 'recordOrder' },
        REJECT: { target: 'rejected', actions: 'recordReason' },
        INVALID: { target: 'failed', actions: 'recordReason' },
        EXPIRE: { target: 'expired', actions: 'recordReason' },
      },
    },
    submitted: {
      on: {
        PARTIAL_FILL: { target: 'partially_filled', actions: 'recordFill' },
        FILL: { target: 'filled', actions: 'recordFill' },
        REJECT: { target: 'rejected', actions: 'recordReason' },
        EXPIRE: { target: 'expired', actions: 'recordReason' },
        SUBMIT_UNKNOWN: { target: 'submit_unknown', actions: 'recordReason' },
      },
    },
    // never re-sent blindly: the gateway looks the client order id up (open, closed orders, trades) first
    submit_unknown: {
      on: {
        RESOLVED: 'submitted',
        PARTIAL_FILL: { target: 'partially_filled', actions: 'recordFill' },
        FILL: { target: 'filled', actions: 'recordFill' },
        REJECT: { target: 'rejected', actions: 'recordReason' },
        EXPIRE: { target: 'expired', actions: 'recordReason' },
      },
    },
    partially_filled: {
      on: {
        PARTIAL_FILL: { actions: 'recordFill' },
        // the order completed, or its unfilled remainder was cancelled: the position holds what filled
        FILL: { target: 'filled', actions: 'recordFill' },
      },
    },
    filled: { on: { OPEN: 'open' } },
    open: { on: { EXIT: { target: 'exiting', actions: 'recordExit' } } },
    exiting: { on: { CLOSE: 'closed' } },
    blocked: { type: 'final' },
    closed: { type: 'final' },
    rejected: { type: 'final' },
    expired: { type: 'final' },
    failed: { type: 'final' },
  },
});
