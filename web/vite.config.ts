import { defineConfig } from 'vite';

// Built into web/dist; the Lineage server ships it as wwwroot/ and serves it at / (see docs/ui.md).
// `npm run dev` proxies the API to a server on :5000.
export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200, sourcemap: false },
  server: {
    proxy: Object.fromEntries(['/api', '/health', '/ready', '/openapi'].map((p) => [p, 'http://127.0.0.1:5000'])),
  },
});
