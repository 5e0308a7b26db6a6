import type { ReactNode } from 'react';

/**
 * A wide table that scrolls sideways on small screens. Keyboard users must be able to scroll it
 * too, so the region is focusable and named (axe-core: scrollable-region-focusable).
 */
export function ScrollRegion({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  return (
    <div className={`table-wrap${className ? ` ${className}` : ''}`} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
