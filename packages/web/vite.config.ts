import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  // The server serves the built UI at /admin/ (packages/server/src/admin-ui/static.ts).
  base: '/admin/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  // `npm run dev -w packages/web` against a server on :4000.
  server: { proxy: { '/api': 'http://127.0.0.1:4000' } },
});
