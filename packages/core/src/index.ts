export * from './model.js';
export { bucketOf, prepareSalt, type BucketSalt } from './bucket.js';
export {
  evaluate,
  subjectIdOf,
  validateFlagShape,
  type EnvSource,
  type EvaluateOptions,
} from './evaluate.js';
export { DEFAULT_BUCKET_CACHE_SIZE, createEvaluator, type Evaluator, type EvaluatorOptions } from './evaluator.js';
export * from './histogram.js';
