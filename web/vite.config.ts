import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const nhsukImages = fileURLToPath(new URL('../node_modules/nhsuk-frontend/dist/nhsuk/assets/images/', import.meta.url));

/**
 * nhsuk-frontend's compiled CSS keeps an old-IE hack, `@media screen\0`, that the CSS minifier
 * rejects. Modern browsers never match it, so `@media not all` is the same rule, written validly.
 */
function nhsukIeHack(): Plugin {
  return {
    name: 'pcn:nhsuk-ie-media-hack',
    enforce: 'pre',
    transform(code, id) {
      if (!/nhsuk-frontend[\\/].*\.css$/.test(id.split('?')[0] ?? '')) return null;
      return { code: code.replaceAll('@media screen\\0', '@media not all'), map: null };
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [nhsukIeHack(), react()],
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
