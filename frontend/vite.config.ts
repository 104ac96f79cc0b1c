import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Go server (KEYWARD_DEV=1) that `npm run dev` proxies API and dev-token
// calls to.
const backend = process.env.KEYWARD_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig(({ command }) => ({
  // Relative asset URLs: the same build is served by Go under /ui/ (behind
  // any base-URL prefix) and uploaded as a Forge Custom UI resource.
  base: command === 'build' ? './' : '/ui/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        // Content hashes keep names stable for identical input, so the
        // committed build is reproducible and assets are cacheable forever.
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': backend,
      // autoRewrite keeps /dev/admin's redirect on the Vite server.
      '/dev': { target: backend, autoRewrite: true },
    },
  },
}));
