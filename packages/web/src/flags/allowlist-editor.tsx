import type { Flag } from '../api/types.js';
// TODO(helper): implement.
export function AllowlistEditor(_props: { flag: Flag }) {
  return null;
}
