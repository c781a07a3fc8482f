import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { LIFECYCLE_STATES, SIGNAL_EVENT_TYPES, signalMachine, TERMINAL_STATES, type SignalEvent, type SignalEventType } from './machine.ts';

/** Sample payloads for every event type; GUARD comes in both verdicts. */
const SAMPLES: Record<SignalEventType, SignalEvent[]> = {
  VALIDATE: [{ type: 'VALIDATE' }],
  INVALID: [{ type: 'INVALID', reason: 'bad' }],
  GUARD: [
    { type: 'GUARD', approved: true, blockedBy: [] },
    { type: 'GUARD', approved: false, blockedBy: ['COOLDOWN'] },
  ],
  APPROVE: [{ type: 'APPROVE' }],
  BLOCK: [{ type: 'BLOCK' }],
  SUBMIT: [{ type: 'SUBMIT', clientOrderId: 'tg1' }],
  REJECT: [{ type: 'REJECT', reason: 'EOrder:Insufficient funds' }],
  SUBMIT_UNKNOWN: [{ type: 'SUBMIT_UNKNOWN', reason: 'RequestTimeout' }],
  RESOLVED: [{ type: 'RESOLVED', how: 'found' }],
  PARTIAL_FILL: [{ type: 'PARTIAL_FILL', quantity: '0.1' }],
  FILL: [{ type: 'FILL', quantity: '0.2' }],
  OPEN: [{ type: 'OPEN' }],
  EXIT: [{ type: 'EXIT', reason: 'stop_loss', clientOrderId: 'tg2' }],
  CLOSE: [{ type: 'CLOSE' }],
  EXPIRE: [{ type: 'EXPIRE', reason: 'timeout' }],
};

/** The specification: for each (state[/verdict], event) the state it leads to; anything absent is refused. */
const SPEC: Record<string, Partial<Record<string, string>>> = {
  received: { VALIDATE: 'validated', INVALID: 'failed', EXPIRE: 'expired' },
  validated: { 'GUARD/approved': 'guarded/approved', 'GUARD/blocked': 'guarded/blocked', INVALID: 'failed', EXPIRE: 'expired' },
  'guarded/approved': { APPROVE: 'approved', EXPIRE: 'expired' },
  'guarded/blocked': { BLOCK: 'blocked', EXPIRE: 'expired' },
  approved: { SUBMIT: 'submitted', REJECT: 'rejected', INVALID: 'failed', EXPIRE: 'expired' },
  submitted: { PARTIAL_FILL: 'partially_filled', FILL: 'filled', REJECT: 'rejected', EXPIRE: 'expired', SUBMIT_UNKNOWN: 'submit_unknown' },
  submit_unknown: { RESOLVED: 'submitted', PARTIAL_FILL: 'partially_filled', FILL: 'filled', REJECT: 'rejected', EXPIRE: 'expired' },
  partially_filled: { PARTIAL_FILL: 'partially_filled', FILL: 'filled' },
  filled: { OPEN: 'open' },
  open: { EXIT: 'exiting' },
  exiting: { CLOSE: 'closed' },
  blocked: {}, closed: {}, rejected: {}, expired: {}, failed: {},
};

const eventKey = (e: SignalEvent) => (e.type === 'GUARD' ? `GUARD/${e.approved ? 'approved' : 'blocked'}` : e.type);

function nodeKey(snapshot: { value: unknown; context: { approved: boolean | null } }): string {
  const v = String(snapshot.value);
  return v === 'guarded' ? `guarded/${snapshot.context.approved ? 'approved' : 'blocked'}` : v;
}

function actorAfter(path: SignalEvent[]) {
  const a = createActor(signalMachine, { input: { signalId: 's' } });
  a.start();
  for (const e of path) a.send(e);
  return a;
}

describe('signal lifecycle machine — exhaustive walk', () => {
  // breadth-first over every reachable node, trying every event type in every node
  const paths = new Map<string, SignalEvent[]>([['received', []]]);
  const queue = ['received'];
  const seen: Array<{ node: string; event: string; accepted: boolean; to: string }> = [];
  while (queue.length) {
    const node = queue.shift()!;
    const path = paths.get(node)!;
    for (const type of SIGNAL_EVENT_TYPES) {
      for (const e of SAMPLES[type]) {
        const actor = actorAfter(path);
        const before = actor.getSnapshot();
        const accepted = before.can(e);
        if (before.status !== 'done') actor.send(e); // a final actor is stopped: sending would only warn
        const to = nodeKey(actor.getSnapshot());
        seen.push({ node, event: eventKey(e), accepted, to });
        if (!paths.has(to)) {
          paths.set(to, [...path, e]);
          queue.push(to);
        }
        actor.stop();
      }
    }
  }

  it('when every event is sent in every reachable state then exactly the specified transitions happen', () => {
    for (const s of seen) {
      const expected = SPEC[s.node]![s.event];
      if (expected === undefined) {
        expect({ ...s, accepted: s.accepted }, `${s.node} must refuse ${s.event}`).toMatchObject({ accepted: false, to: s.node });
      } else {
        expect(s, `${s.node} --${s.event}--> ${expected}`).toMatchObject({ accepted: true, to: expected });
      }
    }
  });

  it('when the walk ends then every lifecycle state was reached and every specified edge was taken', () => {
    const reachedStates = new Set([...paths.keys()].map((k) => k.split('/')[0]));
    expect([...reachedStates].sort()).toEqual([...LIFECYCLE_STATES].sort());
    for (const [node, edges] of Object.entries(SPEC)) {
      for (const [event, to] of Object.entries(edges)) {
        expect(seen.some((s) => s.node === node && s.event === event && s.accepted && s.to === to), `${node} --${event}--> ${to}`).toBe(true);
      }
    }
  });

  it('when a signal reaches a final state then it accepts no further event', () => {
    for (const t of TERMINAL_STATES) {
      const a = actorAfter(paths.get(t)!);
      expect(a.getSnapshot().status).toBe('done');
      for (const type of SIGNAL_EVENT_TYPES) for (const e of SAMPLES[type]) expect(a.getSnapshot().can(e)).toBe(false);
    }
  });

  it('when every path from received is followed then each ends in exactly one terminal state', () => {
    // enumerate all paths through the spec, each edge at most once per path (the partially_filled
    // self-loop and the submitted ⇄ submit_unknown cycle are taken once)
    const finals: string[] = [];
    const walk = (node: string, depth: number, taken: ReadonlySet<string>) => {
      const edges = Object.entries(SPEC[node]!);
      if (edges.length === 0) {
        finals.push(node);
        return;
      }
      expect(depth).toBeLessThan(20);
      for (const [event, next] of edges) {
        const edge = `${node}:${event}`;
        if (!taken.has(edge)) walk(next!, depth + 1, new Set([...taken, edge]));
      }
    };
    walk('received', 0, new Set());
    expect(finals.length).toBeGreaterThan(10);
    for (const f of finals) expect(TERMINAL_STATES as readonly string[]).toContain(f);
  });
});

describe('signal lifecycle machine — context', () => {
  it('when the chain blocks then APPROVE is refused and the blocking codes are kept', () => {
    const a = actorAfter([{ type: 'VALIDATE' }, { type: 'GUARD', approved: false, blockedBy: ['COOLDOWN', 'MAX_DRAWDOWN'] }]);
    expect(a.getSnapshot().can({ type: 'APPROVE' })).toBe(false);
    expect(a.getSnapshot().context.blockedBy).toEqual(['COOLDOWN', 'MAX_DRAWDOWN']);
  });

  it('when fills and an exit are recorded then the context carries the order ids, quantity and exit reason', () => {
    const a = actorAfter([
      { type: 'VALIDATE' }, { type: 'GUARD', approved: true, blockedBy: [] }, { type: 'APPROVE' },
      { type: 'SUBMIT', clientOrderId: 'tgA' }, { type: 'PARTIAL_FILL', quantity: '0.1' }, { type: 'FILL', quantity: '0.3' },
      { type: 'OPEN' }, { type: 'EXIT', reason: 'take_profit', clientOrderId: 'tgB' },
    ]);
    expect(a.getSnapshot().context).toMatchObject({ clientOrderId: 'tgA', filledQuantity: '0.3', exitReason: 'take_profit', exitOrderId: 'tgB' });
  });
});
