// TODO(helper): implement.
export function MonitorIndex() {
  return null;
}

export function MonitorPage(_props: { flagKey: string }) {
  return null;
}
