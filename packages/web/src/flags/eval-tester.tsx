import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { Evaluation } from '../api/types.js';
import { defineMessages, useT, type Locale } from '../i18n/i18n.js';
import { useSession } from '../session/session.js';
import { Badge } from '../ui/badge.js';
import { Section } from '../ui/section.js';
import { ErrorState, Loading } from '../ui/states.js';
import { useFlag } from './use-flag.js';

const m = defineMessages({
  en: {
    title: 'Test an evaluation',
    lead: 'What the flag answers for one subject right now. Nothing is recorded; the answer follows live changes.',
    subject: 'Subject id',
    subjectPlaceholder: 'e.g. pass_beta_001_2026',
    attributes: 'Attributes (optional, one key=value per line)',
    attributesHint: 'Only needed when the flag’s stickiness is another attribute than id.',
    badAttributes: (line: string) => `Not a key=value pair: “${line}”`,
    evaluate: 'Evaluate',
    result: 'Result',
    value: 'Value',
    reason: 'Reason',
    bucket: 'Bucket',
    version: 'Flag version',
    bucketOf: (b: number, bp: number | undefined) =>
      `${b}${bp === undefined ? '' : bp === 0 ? ' · the rollout (0 %) covers no bucket' : ` · the rollout covers buckets 0–${bp - 1} of 0–9 999`}`,
    on: 'ON (true)',
    off: 'OFF (false)',
    reasons: {
      DISABLED: 'The flag is off (kill switch).',
      ALLOWLIST: 'The subject is on the allowlist.',
      ROLLOUT: 'The subject’s bucket is inside the rollout percentage.',
      NOT_IN_ROLLOUT: 'The subject’s bucket is outside the rollout percentage.',
      NO_SUBJECT: 'No subject id reached the evaluation (check the stickiness attribute).',
      OVERRIDE: 'An override decided the value.',
      FLAG_NOT_FOUND: 'The flag does not exist.',
      ERROR: 'The evaluation failed; the default (false) applies.',
    } as Record<string, string>,
  },
  'pt-BR': {
    title: 'Testar uma avaliação',
    lead: 'O que a flag responde agora para um usuário. Nada é registrado; a resposta acompanha as mudanças ao vivo.',
    subject: 'Id do usuário',
    subjectPlaceholder: 'ex.: pass_beta_001_2026',
    attributes: 'Atributos (opcional, um chave=valor por linha)',
    attributesHint: 'Só é preciso quando a stickiness da flag é outro atributo que não o id.',
    badAttributes: (line: string) => `Não é um par chave=valor: “${line}”`,
    evaluate: 'Avaliar',
    result: 'Resultado',
    value: 'Valor',
    reason: 'Motivo',
    bucket: 'Bucket',
    version: 'Versão da flag',
    bucketOf: (b: number, bp: number | undefined) =>
      `${b}${bp === undefined ? '' : bp === 0 ? ' · o rollout (0 %) não cobre nenhum bucket' : ` · o rollout cobre os buckets 0–${bp - 1} de 0–9 999`}`,
    on: 'LIGADA (true)',
    off: 'DESLIGADA (false)',
    reasons: {
      DISABLED: 'A flag está desligada (kill switch).',
      ALLOWLIST: 'O usuário está na allowlist.',
      ROLLOUT: 'O bucket do usuário está dentro do percentual de rollout.',
      NOT_IN_ROLLOUT: 'O bucket do usuário está fora do percentual de rollout.',
      NO_SUBJECT: 'Nenhum id de usuário chegou à avaliação (verifique o atributo de stickiness).',
      OVERRIDE: 'Um override decidiu o valor.',
      FLAG_NOT_FOUND: 'A flag não existe.',
      ERROR: 'A avaliação falhou; vale o padrão (false).',
    } as Record<string, string>,
  },
});

/** `k=v` lines into attributes, or the first line that is not one. */
function parseAttributes(text: string): { attrs: [string, string][] } | { bad: string } {
  const attrs: [string, string][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { bad: line };
    attrs.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return { attrs };
}

/** Evaluates the flag for a subject id, as an SDK would, and explains the answer. VIEWER may use it. */
export function EvalTester({ flagKey }: { flagKey: string }) {
  const t = useT(m);
  const { request } = useSession();
  const id = useId();
  const [subject, setSubject] = useState('');
  const [attrText, setAttrText] = useState('');
  const [asked, setAsked] = useState<string | null>(null);
  const parsed = parseAttributes(attrText);
  const flag = useFlag(flagKey);

  // Keyed under the flag, so a change to the flag re-evaluates the shown answer.
  const query = useQuery({
    queryKey: ['evaluate', flagKey, asked],
    enabled: asked !== null,
    queryFn: async ({ signal }) => (await request<Evaluation>(`/api/evaluate/${encodeURIComponent(flagKey)}?${asked}`, { signal })).data,
  });

  return (
    <Section title={t.title} id="eval">
      <p className="muted small">{t.lead}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!subject.trim() || 'bad' in parsed) return;
          const params = new URLSearchParams(parsed.attrs);
          params.set('id', subject.trim());
          setAsked(params.toString());
        }}
      >
        <label className="field" htmlFor={`${id}-subject`}>
          <span>{t.subject}</span>
          <input id={`${id}-subject`} value={subject} onChange={(e) => setSubject(e.target.value)} placeholder={t.subjectPlaceholder} required maxLength={256} spellCheck={false} autoComplete="off" />
        </label>
        <label className="field" htmlFor={`${id}-attrs`}>
          <span>{t.attributes}</span>
          <textarea
            id={`${id}-attrs`}
            rows={2}
            value={attrText}
            onChange={(e) => setAttrText(e.target.value)}
            spellCheck={false}
            aria-invalid={'bad' in parsed}
            aria-describedby={`${id}-attrs-hint`}
          />
          <small id={`${id}-attrs-hint`} className={'bad' in parsed ? 'field-error' : 'muted'}>
            {'bad' in parsed ? t.badAttributes(parsed.bad) : t.attributesHint}
          </small>
        </label>
        <button type="submit" className="btn btn-primary" disabled={!subject.trim() || 'bad' in parsed}>
          {t.evaluate}
        </button>
      </form>
      {asked === null ? null : query.isPending ? (
        <Loading />
      ) : query.error ? (
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      ) : query.data ? (
        <EvalResult result={query.data} t={t} rolloutBasisPoints={flag.data?.rolloutBasisPoints} />
      ) : null}
    </Section>
  );
}

function EvalResult({ result, t, rolloutBasisPoints }: { result: Evaluation; t: (typeof m)[Locale]; rolloutBasisPoints: number | undefined }) {
  return (
    <div className="eval-result" aria-live="polite">
      <h3 className="visually-hidden">{t.result}</h3>
      <dl className="facts">
        <div>
          <dt>{t.value}</dt>
          <dd>
            <Badge tone={result.value ? 'green' : 'red'}>{result.value ? t.on : t.off}</Badge>
          </dd>
        </div>
        <div>
          <dt>{t.reason}</dt>
          <dd>
            <code>{result.reason}</code>
            {t.reasons[result.reason] ? <span className="small muted"> {t.reasons[result.reason]}</span> : null}
          </dd>
        </div>
        {result.bucket !== undefined ? (
          <div>
            <dt>{t.bucket}</dt>
            <dd>{t.bucketOf(result.bucket, rolloutBasisPoints)}</dd>
          </div>
        ) : null}
        <div>
          <dt>{t.version}</dt>
          <dd>{result.version ?? '—'}</dd>
        </div>
      </dl>
    </div>
  );
}
