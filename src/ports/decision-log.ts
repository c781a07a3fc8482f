/** Append-only JSONL sinks of the decision tracker (shapes in shared/LOGS.md). */
export interface JsonlSink {
  append(record: object): void;
  flush(): void;
  close(): void;
}

export interface DecisionLog {
  /** logs/signal_bus.jsonl */
  readonly bus: JsonlSink;
  /** logs/signal_decisions.jsonl */
  readonly decisions: JsonlSink;
  /** logs/shadow_trade_outcomes.jsonl */
  readonly shadow: JsonlSink;
  /** logs/signal_outcomes.jsonl: one final record per signal (decision joined to its outcome) */
  readonly outcomes: JsonlSink;
}

/** File names of the decision log inside a logs directory. */
export const LOG_FILES = {
  bus: 'signal_bus.jsonl',
  decisions: 'signal_decisions.jsonl',
  shadow: 'shadow_trade_outcomes.jsonl',
  outcomes: 'signal_outcomes.jsonl',
} as const satisfies Record<keyof DecisionLog, string>;
