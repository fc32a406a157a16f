// ESLint flat config: typescript-eslint type-checked rules, plus the house rules of DESIGN.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that pure (sans-IO) code must never import: bytes, time and randomness come in as arguments. */
const ioModules = ['net', 'dgram', 'fs', 'fs/promises', 'http', 'https', 'timers', 'timers/promises', 'child_process', 'worker_threads'];
const ioPaths = ioModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Pure (sans-IO) code: no IO imports.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/dashboard/web/dist/**', 'bin/**', 'eslint.config.js', 'deploy/**'] }, // deploy/: plain JavaScript for the container (healthcheck.mjs), outside the TypeScript project
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-depth': ['error', 4],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // Pure protocol code: codecs, decoders, state machines and analysis.
    files: [
      'src/broadcast/envelope.ts',
      'src/broadcast/replay.ts',
      'src/broadcast/classify.ts',
      'src/capture/pcap.ts',
      'src/capture/pcapng.ts',
      'src/capture/decode/**/*.ts',
      'src/analysis/**/*.ts',
      'src/gossip/protocol.ts',
      'src/gossip/whispernet/codec.ts',
      'src/gossip/whispernet/splitter.ts',
      'src/chat/framing.ts',
      'src/chat/protocol.ts',
      'src/chat/quiz-format.ts',
      'src/firewall/rules.ts',
    ],
    // the anomaly detector's thread and its main-thread handle are IO around the pure detector
    ignores: ['src/analysis/anomaly-worker.ts', 'src/analysis/detector-worker.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ioPaths }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
