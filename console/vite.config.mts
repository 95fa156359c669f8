/**
 * Vite build of the web console: `vite build console` (npm run build) writes static files to
 * dist/console, which src/server/routes/console-routes.ts serves at /console. No inline scripts or
 * styles are emitted, so helmet's CSP (`script-src 'self'`, `style-src 'self'`) holds.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: path.resolve(here, '..', 'dist', 'console'),
    emptyOutDir: true,
    target: 'es2022',
    // Never inline assets as data: URLs into the JS (keeps the CSP simple); no module-preload polyfill script.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
