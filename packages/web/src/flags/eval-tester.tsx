
// TODO(helper): implement.
export function EvalTester(_props: { flagKey: string }) {
  return null;
}
