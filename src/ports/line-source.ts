/** A source of text lines (a JSONL file, or lines in memory): what the analytics read. */
export interface LineSource {
  /** a name for messages and skip counts, e.g. the file name */
  readonly name: string;
  /** false when the source does not exist (an absent log file is not an error) */
  readonly exists: boolean;
  lines(): Iterable<string>;
}

/**
 * A log as a sequence of byte chunks, in order (lines may straddle chunks); a chunk may be a reused buffer,
 * valid until the next one is asked for. Structurally the read model's ByteSource (analytics/read-model.ts).
 */
export interface ByteSource {
  /** a name for messages and skip counts, e.g. the file name */
  readonly name: string;
  /** false when the source does not exist (an absent log file is not an error) */
  readonly exists: boolean;
  chunks(): Iterable<Buffer>;
}

/** Size-based rotation of a log file (config `logs.rotate`): see adapters/jsonl/segments.ts for the naming. */
export interface RotateOptions {
  /** the live file is rotated once a write takes it to this many bytes or more */
  readonly maxBytes: number;
  /** rotated segments kept (the oldest beyond this are deleted); the newest stays plain, older ones are gzipped */
  readonly keep: number;
}
