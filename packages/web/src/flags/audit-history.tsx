
// TODO(helper): implement.
export function AuditHistory(_props: { flagKey: string }) {
  return null;
}
