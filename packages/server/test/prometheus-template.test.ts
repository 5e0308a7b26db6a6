import { describe, expect, it } from 'vitest';
import { checkTemplate, escapeLabelValue, placeholdersOf, promDuration, renderTemplate, TemplateError } from '../src/prometheus/template.js';

const ERRORS = 'sum(rate(http_requests_total{flag="{{flag}}",cohort="{{cohort}}",code=~"5.."}[{{window}}]))';
const vars = { flag: 'passenger_favorites_matching', cohort: 'exposed', windowSeconds: 3600 };

describe('PromQL templates', () => {
  it('fills in flag, cohort and window', () => {
    expect(renderTemplate(ERRORS, vars)).toBe(
      'sum(rate(http_requests_total{flag="passenger_favorites_matching",cohort="exposed",code=~"5.."}[1h]))',
    );
  });

  it('fills in every occurrence, and tolerates spaces inside the braces', () => {
    const t = 'a{cohort="{{cohort}}"}[{{ window }}] / b{cohort="{{ cohort }}"}[{{window}}]';
    expect(renderTemplate(t, { ...vars, cohort: 'control', windowSeconds: 300 })).toBe('a{cohort="control"}[5m] / b{cohort="control"}[5m]');
  });

  it('fills in the baseline offset, and refuses to render without one when the template uses it', () => {
    const t = 'sum(rate(x{flag="{{flag}}"}[{{window}}] offset {{baseline_offset}}))';
    expect(renderTemplate(t, { ...vars, baselineOffsetSeconds: 7 * 86_400 })).toBe(
      'sum(rate(x{flag="passenger_favorites_matching"}[1h] offset 1w))',
    );
    expect(() => renderTemplate(t, vars)).toThrow(/baseline_offset/);
  });

  it.each([
    [300, '5m'],
    [3600, '1h'],
    [21_600, '6h'],
    [86_400, '1d'],
    [172_800, '2d'],
    [604_800, '1w'],
    [5400, '90m'],
    [90, '90s'],
    [1, '1s'],
  ])('writes %i seconds as the Prometheus duration %s', (seconds, duration) => {
    expect(promDuration(seconds)).toBe(duration);
  });

  it.each([0, -60, 1.5, Number.NaN])('refuses %s seconds as a duration', (seconds) => {
    expect(() => promDuration(seconds)).toThrow(RangeError);
  });

  it.each([
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['two\nlines', 'two\\nlines'],
    ['cr\rhere', 'cr\\rhere'],
    ['"}) or vector(1) #', '\\"}) or vector(1) #'],
    ['plain-value.1', 'plain-value.1'],
  ])('escapes the label value %j for a double-quoted PromQL string', (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
  });

  it('keeps a flag value from breaking out of its string literal', () => {
    const rendered = renderTemplate('x{flag="{{flag}}"}', { ...vars, flag: 'a"} or vector(1) or x{flag="b' });
    expect(rendered).toBe('x{flag="a\\"} or vector(1) or x{flag=\\"b"}');
  });

  it('accepts a template that uses only known placeholders, or none', () => {
    expect(checkTemplate(ERRORS)).toEqual([]);
    expect(checkTemplate('up')).toEqual([]);
    expect(placeholdersOf(ERRORS)).toEqual(['flag', 'cohort', 'window']);
  });

  it('names each unknown placeholder, so a typo is caught when the definition is saved', () => {
    const problems = checkTemplate('x{flag="{{flag}}",cohort="{{cohrot}}"}[{{windw}}]');
    expect(problems.map((p) => p.placeholder)).toEqual(['cohrot', 'windw']);
    expect(problems[0]!.message).toMatch(/Unknown placeholder \{\{cohrot\}\}/);
    expect(() => renderTemplate('x{a="{{Flag}}"}', vars)).toThrow(TemplateError);
  });

  it.each([
    ['a placeholder missing a closing brace', 'x{flag="{{flag}"}'],
    ['an unterminated placeholder', 'x[{{window'],
    ['an empty placeholder', 'x[{{}}]'],
    ['an empty query', '   '],
  ])('refuses %s', (_what, template) => {
    expect(checkTemplate(template)).not.toEqual([]);
  });
});
