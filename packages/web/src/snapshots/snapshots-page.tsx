// TODO(helper): implement.
export function SnapshotsPage() {
  return null;
}
