/** A source of text lines (a JSONL file, or lines in memory): what the analytics read. */
export interface LineSource {
  /** a name for messages and skip counts, e.g. the file name */
  readonly name: string;
  /** false when the source does not exist (an absent log file is not an error) */
  readonly exists: boolean;
  lines(): Iterable<string>;
}
