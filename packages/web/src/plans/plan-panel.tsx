
// TODO(helper): implement.
export function PlanPanel(_props: { flagKey: string }) {
  return null;
}
