/** Append-only JSONL sinks of the decision tracker (shapes in shared/LOGS.md). */
export interface JsonlSink {
  /** one line: JSON.stringify(record) */
  append(record: object): void;
  /**
   * The same, from a caller that built the line itself: `line` is exactly JSON.stringify(record), so a writer
   * takes the text and a reader of facts (the report's sidecar) the record, and neither serialises again.
   */
  appendLine(line: string, record: object): void;
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
