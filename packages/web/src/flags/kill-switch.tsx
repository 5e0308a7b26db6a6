import type { Flag } from '../api/types.js';
// TODO(helper): implement.
export function KillSwitch(_props: { flag: Flag; onReload: () => void }) {
  return null;
}
