import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { useMemo } from 'react';
import { useT } from '../i18n/i18n.js';
import { monitorMessages } from './messages.js';

/** The report's own headings start at `##`; under the page's h2 sections they start at h3. */
const markdown = new Marked({
  gfm: true,
  async: false,
  walkTokens(token) {
    if (token.type === 'heading') token.depth = Math.min(6, Math.max(3, token.depth + 1));
  },
});

/** Markdown to HTML, always sanitized: a report quotes notes and labels that people typed. */
export function renderMarkdown(source: string): string {
  return DOMPurify.sanitize(markdown.parse(source, { async: false }));
}

export function ReportView({ source }: { source: string }) {
  const t = useT(monitorMessages);
  const html = useMemo(() => renderMarkdown(source), [source]);
  // Wide tables scroll sideways: focusable, so the keyboard can scroll them too.
  return <div className="report" role="region" aria-label={t.reportLabel} tabIndex={0} dangerouslySetInnerHTML={{ __html: html }} />;
}
