// Builds the web console into dist/web: `npm run web:build` (npm install runs it too). TSX is
// compiled by Vite's esbuild with React's automatic runtime; pages other than the first are
// split into chunks loaded when visited.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  publicDir: false,
  esbuild: { jsx: "automatic" },
  logLevel: "warn",
  build: {
    outDir: here("../../dist/web"),
    emptyOutDir: true,
    target: "es2022",
    // The polyfill is for browsers without modulepreload; every supported one has it.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `npm run web:dev` next to `strata serve` on :5000.
    proxy: { "/api": "http://127.0.0.1:5000", "/v2": "http://127.0.0.1:5000" },
  },
});
