/** Canvas colours (a canvas cannot read CSS variables cheaply); each is ≥ 3:1 against the white plot. */
export const CHART_COLORS = {
  exposed: '#c2410c',
  control: '#1d4ed8',
  baseline: '#59616b',
  stage: '#0f766e',
  rollback: '#b91c1c',
  grid: '#eceef1',
  axis: '#59616b',
  text: '#16191d',
} as const;
