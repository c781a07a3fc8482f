/** Time comes only from here (ARCHITECTURE rule 2). */
export interface Clock {
  /** epoch milliseconds */
  now(): number;
}
