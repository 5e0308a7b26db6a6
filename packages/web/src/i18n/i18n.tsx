import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** The runbooks' teams write in English and Brazilian Portuguese. */
export const LOCALES = ['en', 'pt-BR'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * Each feature keeps its own messages beside its code: `defineMessages({ en, 'pt-BR' })`, with
 * Portuguese typed against English so a missing translation is a compile error. A message is a
 * string or a function of its values.
 */
export function defineMessages<T extends Record<string, unknown>>(m: { en: T; 'pt-BR': NoInfer<T> }) {
  return m;
}

const STORAGE_KEY = 'rampart.locale';

export function browserLocale(languages: readonly string[] = navigator.languages): Locale {
  for (const l of languages) if (l.toLowerCase().startsWith('pt')) return 'pt-BR';
  return 'en';
}

interface LocaleValue {
  readonly locale: Locale;
  setLocale(l: Locale): void;
}

const LocaleContext = createContext<LocaleValue>({ locale: 'en', setLocale: () => {} });

export function LocaleProvider({ children }: { children: ReactNode }) {
  const [locale, setLocale] = useState<Locale>(() => {
    const saved = localStorage.getItem(STORAGE_KEY);
    return (LOCALES as readonly string[]).includes(saved ?? '') ? (saved as Locale) : browserLocale();
  });
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo(
    () => ({
      locale,
      setLocale: (l: Locale) => {
        localStorage.setItem(STORAGE_KEY, l);
        setLocale(l);
      },
    }),
    [locale],
  );
  return <LocaleContext.Provider value={value}>{children}</LocaleContext.Provider>;
}

export function useLocale(): LocaleValue {
  return useContext(LocaleContext);
}

export function useT<T>(messages: { en: T; 'pt-BR': T }): T {
  return messages[useLocale().locale];
}

/** Dates and numbers in the reader's locale. */
export function useFormat() {
  const { locale } = useLocale();
  return useMemo(() => {
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
    const num = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    const rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    return {
      dateTime: (iso: string | number | Date) => dateTime.format(new Date(iso)),
      time: (iso: string | number | Date) => time.format(new Date(iso)),
      number: (n: number) => num.format(n),
      percent: (p: number) => `${num.format(p)} %`,
      /** "3 minutes ago", "in 2 hours". */
      relative(iso: string | number | Date, now = Date.now()) {
        const s = Math.round((new Date(iso).getTime() - now) / 1000);
        const a = Math.abs(s);
        if (a < 60) return rel.format(s, 'second');
        if (a < 3600) return rel.format(Math.round(s / 60), 'minute');
        if (a < 86_400) return rel.format(Math.round(s / 3600), 'hour');
        return rel.format(Math.round(s / 86_400), 'day');
      },
    };
  }, [locale]);
}
