// TODO(helper): implement.
export function TokensPage() {
  return null;
}
