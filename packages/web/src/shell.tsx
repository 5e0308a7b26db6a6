import { lazy, Suspense } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { useLiveUpdates } from './api/live.js';
import { FlagList } from './flags/flag-list.js';
import { FlagPage } from './flags/flag-page.js';
import { common } from './i18n/common.js';
import { useT } from './i18n/i18n.js';
import { useCan, useSession } from './session/session.js';
import { LanguageSwitch } from './ui/language-switch.js';
import { Loading } from './ui/states.js';

// The flags pages load first; the rest (charts, markdown) are fetched when first opened.
const MonitorIndex = lazy(() => import('./monitor/monitor-page.js').then((m) => ({ default: m.MonitorIndex })));
const MonitorPage = lazy(() => import('./monitor/monitor-page.js').then((m) => ({ default: m.MonitorPage })));
const SnapshotsPage = lazy(() => import('./snapshots/snapshots-page.js').then((m) => ({ default: m.SnapshotsPage })));
const TokensPage = lazy(() => import('./tokens/tokens-page.js').then((m) => ({ default: m.TokensPage })));

/** The frame of every page: navigation, who is signed in, live status, language. */
export function Shell() {
  return (
    <Router base="/admin">
      <Frame />
    </Router>
  );
}

function Frame() {
  const t = useT(common);
  const { session, signOut } = useSession();
  const superAdmin = useCan('SUPER_ADMIN');
  const live = useLiveUpdates(session?.token, signOut);
  const [location] = useLocation();
  const nav = [
    { href: '/feature-flags', label: t.navFlags },
    { href: '/beta-monitor', label: t.navMonitor },
    ...(superAdmin ? [{ href: '/snapshots', label: t.navSnapshots }, { href: '/tokens', label: t.navTokens }] : []),
  ];
  return (
    <div className="layout">
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <header className="topbar">
        <Link href="/feature-flags" className="brand">
          <span className="logo" aria-hidden="true">
            ▲
          </span>{' '}
          {t.appName}
        </Link>
        <nav aria-label={t.navMain} className="nav">
          {nav.map((n) => (
            <Link key={n.href} href={n.href} className="nav-link" aria-current={location.startsWith(n.href) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-end">
          <span className={`live live-${live}`} role="status" title={live === 'live' ? t.live : t.offline}>
            <span className="live-dot" aria-hidden="true" />
            <span className="live-text">{live === 'live' ? t.live : t.offline}</span>
          </span>
          <LanguageSwitch />
          <span className="who muted small">{session ? t.signedInAs(session.name, session.role) : null}</span>
          <button type="button" className="btn btn-small" onClick={signOut}>
            {t.signOut}
          </button>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/feature-flags" component={FlagList} />
            <Route path="/feature-flags/:key">{(p) => <FlagPage flagKey={p.key} />}</Route>
            <Route path="/beta-monitor" component={MonitorIndex} />
            <Route path="/beta-monitor/:key">{(p) => <MonitorPage flagKey={p.key} />}</Route>
            <Route path="/snapshots" component={SnapshotsPage} />
            <Route path="/tokens" component={TokensPage} />
            <Route>
              <Redirect to="/feature-flags" replace />
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}
