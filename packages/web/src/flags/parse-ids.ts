/** Ids pasted in bulk: one per line, or separated by commas, semicolons or spaces; duplicates once. */
export function parseIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
}
