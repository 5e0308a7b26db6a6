import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/client.js';
import { Shell } from './shell.js';
import { LocaleProvider } from './i18n/i18n.js';
import { SessionProvider, useSession } from './session/session.js';
import { SignIn } from './session/sign-in.js';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Live events invalidate what changed; this is only the fallback when they cannot arrive.
      staleTime: 30_000,
      refetchOnWindowFocus: true,
      // 4xx answers do not get better by asking again.
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
    },
  },
});

export function App() {
  return (
    <LocaleProvider>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <Gate />
        </SessionProvider>
      </QueryClientProvider>
    </LocaleProvider>
  );
}

function Gate() {
  const { session } = useSession();
  return session ? <Shell /> : <SignIn />;
}
