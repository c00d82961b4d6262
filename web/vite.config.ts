import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const nhsukImages = fileURLToPath(new URL('../node_modules/nhsuk-frontend/dist/nhsuk/assets/images/', import.meta.url));

/**
 * Two fixes to nhsuk-frontend's compiled CSS, so it builds and works with no internet:
 * - it keeps an old-IE hack, `@media screen\0`, that the CSS minifier rejects. Modern browsers never
 *   match it, so `@media not all` is the same rule, written validly;
 * - its `@font-face` rules load the Frutiger web font from assets.nhs.uk. Frutiger is licensed to NHS
 *   England for its own sites and the package does not ship it, so we may not serve it ourselves: the
 *   rules are dropped and the text falls back to the CSS's own next choice, Arial (docs/operations.md).
 * Anything else in it that would still reach another server fails the build.
 */
function nhsukOffline(): Plugin {
  return {
    name: 'pcn:nhsuk-offline',
    enforce: 'pre',
    transform(code, id) {
      if (!/nhsuk-frontend[\\/].*\.css$/.test(id.split('?')[0] ?? '')) return null;
      const css = code.replaceAll('@media screen\\0', '@media not all').replace(/@font-face\s*\{[^}]*\}/g, '');
      const external = /url\(\s*["']?((?:https?:)?\/\/[^)"']+)/i.exec(css);
      if (external) this.error(`nhsuk-frontend's CSS still refers to ${external[1]}: PCN Hub serves every asset itself`);
      return { code: css, map: null };
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [nhsukOffline(), react()],
  resolve: {
    // The same CSS points its icons at /assets/images/…; bundle them from the package instead
    // so the sortable-table arrows work without copying files into the repo.
    alias: [{ find: /^\/assets\/images\/(nhsuk-[\w-]+\.svg)$/, replacement: `${nhsukImages}$1` }],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    // For `npx vite --config web/vite.config.ts` beside a running `npm start`.
    proxy: { '/api': 'http://localhost:3000', '/fhir': 'http://localhost:3000' },
  },
});
