/**
 * A YAML emitter for plain JSON data (objects, arrays, strings, finite numbers, booleans,
 * null), with no dependency: the server does not ship a YAML library, and Prometheus rule files
 * need only this subset. Block style for structure, so the file reads like a hand-written one.
 * Every string is quoted, so none can be mistaken for a number, a boolean, a comment or a tag:
 * single-quoted (only `'` is escaped, as `''`, so PromQL's `"` stay readable) when it is one
 * line of printable characters, else a JSON string, which YAML reads as the same string.
 */
type Scalar = string | number | boolean | null;

/** Keys that YAML reads as the same plain string; anything else is quoted. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n)$/i;

/** `value` as a YAML document; anything JSON could not hold (NaN, a function, a Date) throws. */
export function toYaml(value: unknown): string {
  return `${block(value, 0).join('\n')}\n`;
}

/** Line breaks (YAML 1.1 counts U+0085, U+2028, U+2029 too), controls, BOM, lone surrogates. */
const NEEDS_ESCAPES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ud800-\udfff]/;

function scalar(value: Scalar): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`YAML: ${value} is not a finite number`);
  if (typeof value === 'string' && !NEEDS_ESCAPES.test(value)) return `'${value.replaceAll("'", "''")}'`;
  return JSON.stringify(value);
}

function key(k: string): string {
  return PLAIN_KEY.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k);
}

function isEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

function isScalar(value: unknown): value is Scalar {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
  if (Array.isArray(value) || (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) return false;
  throw new Error(`YAML: cannot write a ${typeof value === 'object' ? value!.constructor.name : typeof value}`);
}

/** The lines of `value` as a block at `indent` spaces. */
function block(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (isScalar(value)) return [pad + scalar(value)];
  if (isEmpty(value)) return [pad + (Array.isArray(value) ? '[]' : '{}')];
  if (Array.isArray(value)) {
    // "- " followed by the item's own block, its first line joined to the dash.
    return value.flatMap((item: unknown) => {
      if (isScalar(item) || isEmpty(item)) return [`${pad}- ${block(item, 0)[0]}`];
      const lines = block(item, indent + 2);
      return [`${pad}- ${lines[0]!.slice(indent + 2)}`, ...lines.slice(1)];
    });
  }
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    if (v === undefined) return [];
    if (isScalar(v) || isEmpty(v)) return [`${pad}${key(k)}: ${block(v, 0)[0]}`];
    return [`${pad}${key(k)}:`, ...block(v, indent + 2)];
  });
}
