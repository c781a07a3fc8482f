/** Append-only JSONL sinks of the decision tracker (shapes in shared/LOGS.md). */
export interface JsonlSink {
  append(record: object): void;
  flush(): void;
  close(): void;
}

export interface DecisionLog {
  readonly bus: JsonlSink;
  readonly decisions: JsonlSink;
}
