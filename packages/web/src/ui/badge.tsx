import type { ReactNode } from 'react';

export type Tone = 'green' | 'yellow' | 'red' | 'blue' | 'grey';

export function Badge({ tone, children, title }: { tone: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

export function healthTone(health: string | null | undefined): Tone {
  return health === 'GREEN' || health === 'PASS' ? 'green' : health === 'YELLOW' || health === 'WARN' ? 'yellow' : health === 'RED' || health === 'FAIL' ? 'red' : 'grey';
}
