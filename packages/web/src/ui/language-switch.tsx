import { useId } from 'react';
import { common } from '../i18n/common.js';
import { LOCALES, useLocale, useT, type Locale } from '../i18n/i18n.js';

const NAMES: Record<Locale, string> = { en: 'English', 'pt-BR': 'Português (Brasil)' };

export function LanguageSwitch() {
  const t = useT(common);
  const { locale, setLocale } = useLocale();
  const id = useId();
  return (
    <span className="language">
      <label htmlFor={id} className="visually-hidden">
        {t.language}
      </label>
      <select id={id} value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {NAMES[l]}
          </option>
        ))}
      </select>
    </span>
  );
}
