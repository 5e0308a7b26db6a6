import { describe, expect, it } from 'vitest';
import {
  cohortOf,
  decisionOf,
  envVarName,
  isValidFlagKey,
  parseOverride,
  percentageToBasisPoints,
} from '@rampart/core';

describe('flag model', () => {
  it('accepts percentages with up to two decimals and rejects the rest', () => {
    expect(percentageToBasisPoints(0)).toBe(0);
    expect(percentageToBasisPoints(1)).toBe(100);
    expect(percentageToBasisPoints(0.29)).toBe(29);
    expect(percentageToBasisPoints(12.34)).toBe(1234);
    expect(percentageToBasisPoints(100)).toBe(10_000);
    for (const bad of [-1, 100.001, 0.001, Number.NaN, Infinity, '5' as unknown as number]) {
      expect(percentageToBasisPoints(bad)).toBeUndefined();
    }
  });

  it('names the env master switch FEATURE_<KEY_UPPER>', () => {
    expect(envVarName('passenger_favorites_matching')).toBe('FEATURE_PASSENGER_FAVORITES_MATCHING');
    expect(envVarName('chat.v2-beta')).toBe('FEATURE_CHAT_V2_BETA');
  });

  it('reads only clear on/off words from the env', () => {
    expect(['false', 'OFF', ' 0 '].map(parseOverride)).toEqual([false, false, false]);
    expect(['true', 'On', '1'].map(parseOverride)).toEqual([true, true, true]);
    expect(['', 'yes', 'disabled', undefined].map(parseOverride)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('validates keys against the documented pattern', () => {
    expect(isValidFlagKey('passenger_favorites_matching')).toBe(true);
    expect(isValidFlagKey('a'.repeat(128))).toBe(true);
    for (const bad of ['', 'A', '_x', 'has space', 'a'.repeat(129), 'ü', 5]) expect(isValidFlagKey(bad)).toBe(false);
  });

  it('maps reasons to cohorts and to the runbook decision words', () => {
    expect(cohortOf('ROLLOUT')).toBe('exposed');
    expect(cohortOf('NOT_IN_ROLLOUT')).toBe('control');
    expect(cohortOf('ALLOWLIST')).toBe('allowlist');
    expect(cohortOf('DISABLED')).toBe('off');
    expect(decisionOf({ value: true, reason: 'ALLOWLIST' })).toBe('ALLOWLIST');
    expect(decisionOf({ value: true, reason: 'OVERRIDE' })).toBe('ROLLOUT');
    expect(decisionOf({ value: false, reason: 'NOT_IN_ROLLOUT' })).toBe('OFF');
  });
});
