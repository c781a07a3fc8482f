/** MIN_CONFIDENCE — ignore signals whose confidence is below the threshold. */
import { allow, block, type GuardDefinition } from './types.ts';

export interface MinConfidenceParams {
  readonly min: number;
}

export const minConfidence: GuardDefinition<MinConfidenceParams> = {
  code: 'MIN_CONFIDENCE',
  describe: 'require a minimum signal confidence',
  create: (p) => (signal) => (signal.confidence < p.min ? block('MIN_CONFIDENCE', `confidence ${signal.confidence.toFixed(3)} < ${p.min}`) : allow),
};
