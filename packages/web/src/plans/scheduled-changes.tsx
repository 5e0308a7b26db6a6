
// TODO(helper): implement.
export function ScheduledChanges(_props: { flagKey: string }) {
  return null;
}
